"""Each page kind of the load test alone: `python -m load.pages [--rounds 10]`.

On the load database (`load.data`, built or reused), through Django's test client (middleware,
view, queries, templates; no network, no concurrency, the test settings' caches): the median
server time of each page kind the journeys request, and its query count. What the load test's
CPU per request is made of, page by page; progress on stderr, one line per kind on stdout.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import TYPE_CHECKING

from load import data

if TYPE_CHECKING:
    from django.test import Client

log = data.log


def _client(email: str) -> Client:
    from django.test import Client

    from accounts.models import User

    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(email=email))
    return client


def _pages() -> list[tuple[str, str, str]]:
    """(kind, user, url) for one customer, one agent, one manager."""
    from accounts.models import User
    from scheduling.models import CallType

    customer = (
        User.objects.filter(company__addon_subscriptions__isnull=False).order_by("pk").first()
    )
    assert customer is not None
    agent, manager = "agent000@bench.example", "manager0@bench.example"
    client = _client(customer.email)
    listing = client.get("/tickets/").content.decode()
    ticket = re.findall(r'<a href="/tickets/(\d+)/">', listing)[0]
    code = CallType.objects.filter(active=True).order_by("pk").values_list("code", flat=True)[0]
    slots = client.get(f"/book/{code}/").content.decode()
    start, agent_id = re.findall(
        r'name="start" value="([^"]+)"><input type="hidden" name="agent" value="(\d+)"', slots
    )[0]
    queue = _client(agent).get("/queue/").content.decode()
    row = re.findall(r'<tr data-ticket-id="(\d+)"', queue)[0]
    return [
        ("home", customer.email, "/"),
        ("ticket_list", customer.email, "/tickets/?tab=open"),
        ("ticket", customer.email, f"/tickets/{ticket}/"),
        ("ticket_new", customer.email, "/tickets/new/"),
        ("book_home", customer.email, "/book/"),
        ("book_slots", customer.email, f"/book/{code}/"),
        ("book_confirm", customer.email, f"/book/{code}/confirm/?start={start}&agent={agent_id}"),
        ("queue", agent, "/queue/"),
        ("workspace", agent, f"/queue/tickets/{row}/"),
        ("report", manager, "/reports/sla/"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    arguments = parser.parse_args()
    data.build()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients: dict[str, Client] = {}
    for kind, email, url in _pages():
        client = clients.setdefault(email, _client(email))
        client.get(url)  # warm-up
        timings = []
        for _ in range(arguments.rounds):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
        median = statistics.median(timings) * 1000
        print(f"{kind:<14} {median:7.1f} ms  {len(queries.captured_queries):3} queries  {url}")


if __name__ == "__main__":
    main()
