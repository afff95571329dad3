"""The load test's journeys, for locust (`python -m load` starts it; it needs `LOAD_ACCOUNTS`).

Four kinds of people, each thinking 1-3 s between steps, signed in like a browser (the login form
with its CSRF token, then the session cookie; production's cookies are `Secure`, and the client
is told to send them over this plain-HTTP connection, as a browser does behind TLS):

- customers of VIP companies (weight 6): the home page, their company's ticket list, a ticket
  read from it, a reply to an open one, a new ticket, and booking a call (call types, a week of
  free slots, the confirmation page, the booking, the booked call's page);
- agents (weight 3): the queue ("all" view), a ticket of it in the workspace, a reply or a note;
- managers (weight 1): the SLA report page, the queue;
- API scripts (weight 2), with a bearer token each: `GET /api/v1/tickets/` (customers'),
  `GET /api/v1/queue/` (agents').

Requests are named by page kind (`name=`), so the percentiles are per kind. A form post is sent
without following its redirect; the post must answer 302 (else it is a failure), and the page it
redirects to is fetched as a request of its own kind, as a browser would. Every status other than
2xx/3xx is a failure, and so is a page without what the next step needs (no CSRF token, no row).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, task
from locust.exception import RescheduleTask

ACCOUNTS: dict[str, Any] = json.loads(
    open(os.environ["LOAD_ACCOUNTS"], encoding="utf-8").read()  # noqa: SIM115
)
PASSWORD: str = ACCOUNTS["password"]
TOKENS: dict[str, str] = ACCOUNTS["tokens"]
PHONE = "+359 88 123 4567"

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_PORTAL_TICKET = re.compile(r'<a href="/tickets/(\d+)/">')
_QUEUE_ROW = re.compile(r'<tr data-ticket-id="(\d+)"')
_CALL_TYPE = re.compile(r'<a href="/book/([\w-]+)/">')
_SLOT = re.compile(
    r'<input type="hidden" name="start" value="([^"]+)">'
    r'<input type="hidden" name="agent" value="(\d+)">'
)
_INPUT = re.compile(r"<input\b[^>]*>")
_ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')

_counters: dict[str, itertools.count[int]] = {}


def _next_account(kind: str, accounts: list[str]) -> str:
    """Accounts handed out in turn, so concurrent users rarely share one."""
    counter = _counters.setdefault(kind, itertools.count())
    return accounts[next(counter) % len(accounts)]


class JourneyError(Exception):
    """A page lacked what the journey needs for its next step."""


def _stop_journey() -> RescheduleTask:
    """The journey cannot go on (its failure is already counted): the person starts another."""
    return RescheduleTask()


class Person(FastHttpUser):
    """A signed-in browser user."""

    abstract = True
    wait_time = between(1, 3)
    # Plain HTTP to the server on this machine; the header a browser would send.
    default_headers = {"Accept-Language": "en", "User-Agent": "vipsupport-load"}
    kind = ""
    accounts: list[str] = []

    def on_start(self) -> None:
        # Production's cookies are `Secure` (TLS ends at the proxy); this client talks plain HTTP
        # to the server, so it is told to send them anyway, as a browser behind TLS would.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("http", "https")))
        self.email = _next_account(self.kind, self.accounts)
        while True:  # a failed sign-in counts as such, and the person tries again
            try:
                page = self.page("/accounts/login/", "login_page")
                self.post_form(
                    "/accounts/login/",
                    "login",
                    page,
                    {"username": self.email, "password": PASSWORD},
                )
            except RescheduleTask:
                self.wait()
            else:
                return

    def missing(self, name: str, what: str) -> RescheduleTask:
        """Count a page that lacks what the next step needs as a failure of its kind."""
        self.environment.events.request.fire(
            request_type="CHECK",
            name=name,
            response_time=0,
            response_length=0,
            exception=JourneyError(f"{name}: {what}"),
            context={},
        )
        return _stop_journey()

    def csrf(self, name: str, page: str) -> str:
        token = _CSRF.search(page)
        if token is None:
            raise self.missing(name, "no CSRF token on the form's page")
        return token.group(1)

    def page(self, url: str, name: str) -> str:
        """GET a page; a failure when it does not answer 200."""
        with self.client.get(url, name=name, catch_response=True) as response:
            status = response.status_code
            if status != 200:
                response.failure(f"{status}")
        if status != 200:
            raise _stop_journey()
        return response.text or ""

    def post_form(
        self, url: str, name: str, form_page: str, fields: dict[str, str], *, expect: int = 302
    ) -> str:
        """POST a form with the page's CSRF token; returns the redirect's target."""
        body = urlencode({"csrfmiddlewaretoken": self.csrf(name, form_page), **fields})
        with self.client.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.host}{url}",
            },
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            status = response.status_code
            if status != expect:
                response.failure(f"{status}, expected {expect}")
        if status != expect:
            raise _stop_journey()
        return str(response.headers.get("Location") or "")


class Customer(Person):
    weight = 6
    kind = "customer"
    accounts = ACCOUNTS["customers"]

    def _ticket_ids(self, tab: str = "open") -> list[str]:
        text = self.page(f"/tickets/?tab={tab}", "ticket_list")
        return _PORTAL_TICKET.findall(text)

    @task(3)
    def home(self) -> None:
        self.page("/", "home")

    @task(3)
    def read_ticket(self) -> None:
        tickets = self._ticket_ids(random.choice(("open", "open", "solved")))  # noqa: S311
        if tickets:
            self.page(f"/tickets/{random.choice(tickets)}/", "ticket")  # noqa: S311

    @task(1)
    def reply(self) -> None:
        tickets = self._ticket_ids()
        if not tickets:
            return
        pk = random.choice(tickets)  # noqa: S311
        text = self.page(f"/tickets/{pk}/", "ticket")
        if f'action="/tickets/{pk}/reply/"' not in text:
            return
        target = self.post_form(
            f"/tickets/{pk}/reply/",
            "ticket_reply",
            text,
            {"body": "Thanks, we tried that; the export still stops at 80 %. Logs attached."},
        )
        self.page(target, "ticket")

    @task(1)
    def open_ticket(self) -> None:
        text = self.page("/tickets/new/", "ticket_new")
        target = self.post_form(
            "/tickets/new/",
            "ticket_create",
            text,
            {
                "subject": "Nightly export stops at 80 %",
                "description": "Since this morning the nightly export stops at 80 %. "
                "We restarted it twice; the log says the job timed out.",
                "severity": "4",
            },
        )
        self.page(target, "ticket")

    @task(1)
    def book_call(self) -> None:
        home = self.page("/book/", "book_home")
        codes = _CALL_TYPE.findall(home)
        if not codes:
            raise self.missing("book_home", "no call types")
        code = random.choice(codes)  # noqa: S311
        slots = _SLOT.findall(self.page(f"/book/{code}/", "book_slots"))
        if not slots:
            return  # a full week: the person would look at the next one
        start, agent = random.choice(slots)  # noqa: S311
        query = urlencode({"start": html.unescape(start), "agent": agent})
        confirm_url = f"/book/{code}/confirm/"
        confirm = self.page(f"{confirm_url}?{query}", "book_confirm")
        fields = {
            attributes["name"]: html.unescape(attributes.get("value", ""))
            for attributes in (dict(_ATTRIBUTE.findall(tag)) for tag in _INPUT.findall(confirm))
            if "name" in attributes and attributes["name"] != "csrfmiddlewaretoken"
        }
        fields.update(topic="Training for two new administrators", ticket="")
        if not fields.get("phone_number"):
            fields["phone_number"] = PHONE
        with self.client.post(
            confirm_url,
            data=urlencode({"csrfmiddlewaretoken": self.csrf("book_post", confirm), **fields}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="book_post",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 200 and "data-start" in (response.text or ""):
                return  # taken meanwhile: the page offers the nearest free times
            if response.status_code != 302:
                response.failure(f"{response.status_code}, expected 302")
                return
            target = str(response.headers.get("Location") or "")
        self.page(target, "booking")


class Agent(Person):
    weight = 3
    kind = "agent"
    accounts = ACCOUNTS["agents"]

    def _queue(self) -> list[str]:
        return _QUEUE_ROW.findall(self.page("/queue/", "queue"))

    @task(4)
    def queue(self) -> None:
        self._queue()

    @task(4)
    def work_ticket(self) -> None:
        rows = self._queue()
        if rows:
            self.page(f"/queue/tickets/{random.choice(rows)}/", "workspace")  # noqa: S311

    @task(2)
    def answer(self) -> None:
        rows = self._queue()
        if not rows:
            return
        pk = random.choice(rows)  # noqa: S311
        text = self.page(f"/queue/tickets/{pk}/", "workspace")
        fields = (
            {"internal": "1", "body": "Checked the job log: a timeout in the export step."}
            if random.random() < 0.5  # noqa: S311
            else {"body": "We are looking into it and will update you within the hour.", "then": ""}
        )
        target = self.post_form(f"/queue/tickets/{pk}/reply/", "work_reply", text, fields)
        self.page(target, "workspace")


class Manager(Person):
    weight = 1
    kind = "manager"
    accounts = ACCOUNTS["managers"]

    @task(3)
    def report(self) -> None:
        self.page("/reports/sla/", "report")

    @task(1)
    def queue(self) -> None:
        self.page("/queue/", "queue")


class Script(FastHttpUser):
    """An API client with a bearer token: a customer's or an agent's."""

    weight = 2
    wait_time = between(1, 3)
    default_headers = {"Accept": "application/json", "User-Agent": "vipsupport-load-api"}

    def on_start(self) -> None:
        self.email = _next_account("api", sorted(TOKENS))
        self.auth = {"Authorization": f"Bearer {TOKENS[self.email]}"}
        self.staff = self.email.endswith("@bench.example")

    @task
    def read(self) -> None:
        if self.staff and random.random() < 0.5:  # noqa: S311
            self.client.get("/api/v1/queue/", headers=self.auth, name="api_queue")
        else:
            self.client.get("/api/v1/tickets/", headers=self.auth, name="api_tickets")
