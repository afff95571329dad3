"""Structured logs: the request id from the proxy (or a new one), the ticket id, JSON lines."""

import asyncio
import datetime
import json
import logging
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from celery.signals import before_task_publish, task_success
from django.test import Client

from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from outbox.tasks import send_pending_emails
from tickets.tests.factories import make_ticket
from vipsupport.log_format import JsonFormatter
from vipsupport.logs import (
    ContextFilter,
    current_request_id,
    current_ticket_id,
    log_ticket,
    request_context,
)
from vipsupport.request_id import RequestIdASGIMiddleware

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every INFO+ record, stamped with the ids by the same filter the console handler has."""
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.INFO)
    return caplog


def access_lines(logs: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in logs.records if record.name == "vipsupport.requests"]


@pytest.mark.django_db
class TestRequestId:
    def test_a_sane_id_from_the_proxy_comes_back(self, client: Client) -> None:
        response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a:42/b_c.d")

        assert response.status_code == 200
        assert response["X-Request-ID"] == "lb-7f3a:42/b_c.d"

    @pytest.mark.parametrize(
        "given", ["two words", "tab\there", "x" * 201, "caf\u00e9", "line\nbreak", ""]
    )
    def test_a_bad_id_is_replaced_by_a_new_one(self, client: Client, given: str) -> None:
        response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=given)

        assert NEW_ID.fullmatch(response["X-Request-ID"])

    def test_without_one_each_request_gets_its_own(self, client: Client) -> None:
        first = client.get("/accounts/login/")["X-Request-ID"]
        second = client.get("/accounts/login/")["X-Request-ID"]

        assert NEW_ID.fullmatch(first)
        assert NEW_ID.fullmatch(second)
        assert first != second

    def test_an_id_of_200_characters_is_kept(self, client: Client) -> None:
        given = "a" * 200

        assert client.get("/accounts/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


@pytest.mark.django_db
class TestTicketLines:
    @pytest.fixture
    def alice(self) -> Any:
        return CustomerFactory(company=vip_company())

    def test_every_line_of_a_ticket_page_carries_both_ids(self, client_for, alice, logs):
        ticket = make_ticket(requester=alice)
        logs.clear()

        client = client_for(alice)
        logs.clear()

        response = client.get(f"/tickets/{ticket.pk}/", HTTP_X_REQUEST_ID="rq-page-1")

        assert response.status_code == 200
        (line,) = access_lines(logs)
        assert line.getMessage().startswith(f"GET /tickets/{ticket.pk}/ 200 ")
        assert {(record.request_id, record.ticket_id) for record in logs.records} == {
            ("rq-page-1", str(ticket.pk))
        }

    @pytest.mark.parametrize("page", ["/queue/tickets/{pk}/", "/api/v1/tickets/{pk}/"])
    def test_the_workspace_and_the_api_name_the_ticket_too(self, client_for, alice, logs, page):
        ticket = make_ticket(requester=alice)
        logs.clear()

        response = client_for(AgentFactory()).get(page.format(pk=ticket.pk))

        assert response.status_code == 200
        (line,) = access_lines(logs)
        assert line.ticket_id == str(ticket.pk)
        assert line.request_id == response["X-Request-ID"]

    def test_nothing_leaks_into_the_next_request(self, client_for, alice, logs):
        ticket = make_ticket(requester=alice)
        client = client_for(alice)
        logs.clear()

        client.get(f"/tickets/{ticket.pk}/", HTTP_X_REQUEST_ID="rq-first")
        second = client.get("/tickets/")

        first_line, second_line = access_lines(logs)
        assert first_line.ticket_id == str(ticket.pk)
        assert second_line.ticket_id == ""
        assert second_line.request_id == second["X-Request-ID"] != "rq-first"
        # And nothing is left behind in the test's own context once the requests are over.
        assert (current_request_id(), current_ticket_id()) == ("", "")

    def test_a_service_names_its_ticket_only_while_it_runs(self, alice, logs):
        first, second = make_ticket(requester=alice), make_ticket(requester=alice)
        agent = AgentFactory()
        seen: list[str] = []

        def note_ticket(**kwargs: Any) -> None:
            seen.append(current_ticket_id())

        from tickets import services
        from tickets.signals import ticket_changed

        ticket_changed.connect(note_ticket, weak=False)
        try:
            with request_context("rq-loop"):
                for ticket in (first, second):
                    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
                assert current_ticket_id() == ""
        finally:
            ticket_changed.disconnect(note_ticket)

        assert seen == [str(first.pk), str(second.pk)]


# Committed for real, so the view's on-commit hooks publish inside the request, as in production.
@pytest.mark.django_db(transaction=True)
class TestCelery:
    @pytest.fixture
    def published(self) -> Iterator[list[dict[str, Any]]]:
        """The headers of every task message this test publishes to the broker."""
        sent: list[dict[str, Any]] = []

        def keep(*, headers: dict[str, Any], **kwargs: Any) -> None:
            sent.append(dict(headers))

        before_task_publish.connect(keep, weak=False)
        try:
            yield sent
        finally:
            before_task_publish.disconnect(keep)

    @pytest.fixture
    def ids_in_task(self) -> Iterator[list[tuple[str, str]]]:
        """The request id each task held while it ran (read as its success is recorded)."""
        seen: list[tuple[str, str]] = []

        def keep(**kwargs: Any) -> None:
            seen.append((current_request_id(), current_ticket_id()))

        task_success.connect(keep, weak=False)
        try:
            yield seen
        finally:
            task_success.disconnect(keep)

    def test_a_task_sent_by_a_request_runs_under_its_id(
        self, client_for, published, ids_in_task, logs
    ):
        alice = CustomerFactory(company=vip_company())
        ticket = make_ticket(requester=alice)
        agent = AgentFactory()

        published.clear()

        # A staff reply e-mails the customer: the outbox's sender is enqueued after the commit.
        response = client_for(agent).post(
            f"/queue/tickets/{ticket.pk}/reply/",
            {"body": "We are on it."},
            HTTP_X_REQUEST_ID="rq-reply-9",
        )

        assert response.status_code in {200, 302}
        sender = [headers for headers in published if headers["task"] == send_pending_emails.name]
        assert sender, [headers["task"] for headers in published]
        assert sender[0]["request_id"] == "rq-reply-9"
        assert (current_request_id(), current_ticket_id()) == ("", "")
        logs.clear()

        # What the worker does with the message: its headers become the task's request.
        send_pending_emails.apply(headers={"request_id": sender[0]["request_id"]})

        assert ids_in_task == [("rq-reply-9", "")]
        task_lines = [record for record in logs.records if record.name.startswith("celery")]
        assert task_lines  # Celery's "Task … succeeded" at least
        assert all(record.request_id == "rq-reply-9" for record in task_lines)
        assert (current_request_id(), current_ticket_id()) == ("", "")

    def test_a_task_sent_outside_any_request_gets_a_new_id_each_run(self, published, ids_in_task):
        send_pending_emails.delay()  # as Beat sends it: no request around it
        assert "request_id" not in published[0]

        send_pending_emails.apply(headers=published[0])
        send_pending_emails.apply(headers=published[0])

        (first, _), (second, _) = ids_in_task
        assert NEW_ID.fullmatch(first)
        assert NEW_ID.fullmatch(second)
        assert first != second
        assert current_request_id() == ""


def test_the_json_formatter_writes_one_parseable_line_with_every_field() -> None:
    logger = logging.getLogger("vipsupport.tests.json")
    try:
        raise ValueError("the feed said no")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "Ticket %s:\nfailed", (12,), sys.exc_info()
        )
    record.created = datetime.datetime(
        2031, 3, 4, 5, 6, 7, 891_000, tzinfo=datetime.UTC
    ).timestamp()
    with request_context("rq-json"), log_ticket(12):
        ContextFilter().filter(record)

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"] == "2031-03-04T05:06:07.891Z"
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "vipsupport.tests.json"
    assert entry["message"] == "Ticket 12:\nfailed"
    assert entry["request_id"] == "rq-json"
    assert entry["ticket_id"] == "12"
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: the feed said no" in entry["exc_info"]


def test_a_line_outside_any_request_has_empty_ids_and_no_exc_info() -> None:
    record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "hi", (), None)
    ContextFilter().filter(record)

    entry = json.loads(JsonFormatter().format(record))

    assert (entry["request_id"], entry["ticket_id"]) == ("", "")
    assert "exc_info" not in entry


def test_django_lines_go_out_once_through_the_root_handler() -> None:
    # Django's own console handler on `django` printed each of its lines a second time.
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate
    # The settings' console handler (pytest adds its own capturing ones beside it).
    (console,) = [
        each for each in logging.getLogger().handlers if type(each) is logging.StreamHandler
    ]
    assert any(isinstance(each, ContextFilter) for each in console.filters)


def test_a_websocket_keeps_its_handshake_id_for_its_whole_life() -> None:
    seen: list[str] = []

    async def connection(scope: Any, receive: Any, send: Any) -> None:
        seen.append(current_request_id())
        await asyncio.sleep(0)
        seen.append(current_request_id())

    app = RequestIdASGIMiddleware(connection)
    # Each in a loop of its own thread: a browser test may leave this thread's loop running.
    with ThreadPoolExecutor(1) as pool:
        for headers in ([(b"x-request-id", b"ws-1")], []):
            scope = {"type": "websocket", "headers": headers}
            pool.submit(asyncio.run, app(scope, None, None)).result()
        left_behind = pool.submit(current_request_id).result()

    assert seen[:2] == ["ws-1", "ws-1"]
    assert NEW_ID.fullmatch(seen[2])
    assert seen[2] == seen[3]
    assert left_behind == ""
