"""Benchmark of the agent queue page on PostgreSQL; run as `python -m bench.queue`.

Builds a throw-away database `vipsupport_bench_queue` (dropped and re-created on every run, with
`bench.data`) holding 10 000 companies (every tenth VIP, with the dedicated-agent add-on),
200 agents (10 of them seniors) and 1 000 000 tickets: about 150 000 still open (a fifth of them
waiting on the customer, so without a deadline; a tenth of the others past their deadline), the
rest solved or closed. Deadlines are relative to the real clock, so the badges are a realistic mix.

It then times the server side of `GET /queue/?view=all` as an agent sees it, through Django's test
client (middleware, view, queries and templates; no network): the first page, and deep pages whose
`after` cursors are the ones the page's `rel="next"` link would carry, 100 000 rows into the dated
part of the queue, at its boundary with the undated part, and 10 000 and 25 000 rows into the
undated part. After a warm-up, the first page and a deep page are requested in turns, 100 times
each. Stdout carries only the three `bench:` lines (95th percentiles, nearest rank); progress and
the query count per page go to stderr. `--profile` adds the queries of each page with EXPLAIN
ANALYZE and a cProfile summary (on stderr, after the timed runs, so the figures are unaffected).
"""

from __future__ import annotations

import cProfile
import datetime
import io
import math
import pstats
import re
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench import data
from bench.data import TicketMix

if TYPE_CHECKING:
    from django.test import Client

    from tickets.queue import Cursor

BENCH_DB = "vipsupport_bench_queue"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/13"

TICKETS = 1_000_000
# 1 000 VIP companies
PEOPLE = data.Staffing(
    companies=10_000,
    vip_every=10,
    customers_per_company=3,
    agents=190,
    seniors=10,
    managers=2,
)
MIX = TicketMix(
    open_permille=150,  # ~150 000 open tickets; the rest solved or closed
    waiting_permille=200,  # ~30 000 of them waiting on the customer: no deadline
    due_every=10,  # ~12 000 of the ~120 000 with a deadline are past it
    elapsed_permille=1000,  # the others are up to their deadline: a fifth in the warning window
    tier2_permille=30,
    vip_tenths=3,
)

DATED_DEPTH = 100_000
UNDATED_DEPTHS = (10_000, 25_000)
WARM_UP = 5  # requests per URL
ROUNDS = 100  # timed requests of the first page, and as many of the deep pages
QUANTILE = 0.95

log = data.log
_ROW = re.compile(rb'<tr data-ticket-id="(\d+)"')
_NEXT = re.compile(rb'<a rel="next" href="\?([^"]+)"')


@dataclass(frozen=True)
class Page:
    label: str
    url: str
    first_id: int  # the ticket the page must start with


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)


def _describe_data() -> None:
    from django.db.models import Count, Q

    from accounts.models import AgentProfile, Company
    from tickets.models import Ticket

    statuses = {
        row["status"]: row["n"]
        for row in Ticket.objects.order_by().values("status").annotate(n=Count("pk"))
    }
    breached = Ticket.objects.filter(
        status__in=("new", "open"), sla_due_at__lte=datetime.datetime.now(tz=datetime.UTC)
    ).count()
    vip = Company.objects.filter(addon_subscriptions__isnull=False).distinct().count()
    staff = AgentProfile.objects.aggregate(
        agents=Count("pk"), seniors=Count("pk", filter=Q(tier=2))
    )
    log(
        f"bench_queue: tickets by status {statuses}, {breached} breached;"
        f" {Company.objects.count()} companies ({vip} VIP);"
        f" {staff['agents']} agents ({staff['seniors']} seniors)"
    )


def _pages() -> list[Page]:
    """The first page and the deep pages, with the row each must start with."""
    from tickets.models import OPEN_STATUSES, Ticket
    from tickets.queue import Cursor

    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES).only(
        "sla_due_at", "severity", "created_at"
    )
    dated = open_tickets.filter(sla_due_at__isnull=False).order_by(
        "sla_due_at", "severity", "created_at", "pk"
    )
    undated = open_tickets.filter(sla_due_at__isnull=True).order_by("severity", "created_at", "pk")
    dated_count = dated.count()

    def after(cursor: Cursor) -> str:
        return f"/queue/?view=all&after={cursor.encode()}"

    pages = [Page("first", "/queue/?view=all", dated[0].pk)]
    for label, rows, depth in (
        (f"dated+{DATED_DEPTH}", dated, DATED_DEPTH),
        ("boundary", dated, dated_count - 10),  # 10 dated rows, then the undated ones
        *((f"undated+{depth}", undated, depth) for depth in UNDATED_DEPTHS),
    ):
        last_shown, expected_first = rows[depth - 1 : depth + 1]
        pages.append(Page(label, after(Cursor.after(last_shown)), expected_first.pk))
    return pages


def _client() -> Client:
    from django.test import Client

    from accounts.models import User

    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(email="agent000@bench.example"))
    return client


def _get(client: Client, page: Page) -> tuple[float, bytes]:
    started = time.perf_counter()
    response = client.get(page.url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{page.label}: {page.url} answered {response.status_code}")
    return elapsed, response.content


def _check(page: Page, content: bytes) -> None:
    rows = [int(pk) for pk in _ROW.findall(content)]
    if len(rows) != 50 or rows[0] != page.first_id or not _NEXT.search(content):
        raise RuntimeError(
            f"{page.label}: {len(rows)} rows starting at {rows[:1]}, expected 50 from"
            f" {page.first_id} and a next link"
        )


def _check_next_link(client: Client, first: Page) -> None:
    """The first page's rel="next" link is a deep-page URL like the timed ones, and it works."""
    from tickets.models import OPEN_STATUSES, Ticket

    _, content = _get(client, first)
    match = _NEXT.search(content)
    if match is None:
        raise RuntimeError("the first page has no next link")
    url = "/queue/?" + match.group(1).decode().replace("&amp;", "&")
    expected = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, sla_due_at__isnull=False)
        .order_by("sla_due_at", "severity", "created_at", "pk")
        .values_list("pk", flat=True)[50]
    )
    _, content = _get(client, Page("next", url, expected))
    _check(Page("next", url, expected), content)


def _p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile, in milliseconds."""
    ordered = sorted(samples)
    return ordered[math.ceil(QUANTILE * len(ordered)) - 1] * 1000


def _measure(client: Client, pages: list[Page]) -> tuple[list[float], list[float]]:
    first, deep = pages[0], pages[1:]
    for page in pages:
        for _ in range(WARM_UP):
            _check(page, _get(client, page)[1])
    samples: dict[str, list[float]] = {page.label: [] for page in pages}
    cpu: dict[str, list[float]] = {page.label: [] for page in pages}
    for n in range(ROUNDS):
        for page in (first, deep[n % len(deep)]):
            started = time.process_time()
            seconds, content = _get(client, page)
            cpu[page.label].append(time.process_time() - started)
            samples[page.label].append(seconds)
            _check(page, content)
    for label, timings in samples.items():
        log(
            f"  {label}: {len(timings)} requests, median {statistics.median(timings) * 1000:.1f}"
            f" ms, p95 {_p95(timings):.1f} ms, max {max(timings) * 1000:.1f} ms;"
            f" Python CPU median {statistics.median(cpu[label]) * 1000:.1f} ms"
        )
    return samples[first.label], [s for page in deep for s in samples[page.label]]


def _count_queries(client: Client, pages: list[Page]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for page in pages:
        with CaptureQueriesContext(connection) as captured:
            _get(client, page)
        tickets = sum('FROM "tickets_ticket"' in query["sql"] for query in captured)
        log(f"bench_queue: {page.label} page ran {len(captured)} queries ({tickets} on tickets)")


def _profile(client: Client, pages: list[Page]) -> None:
    """Every query of each page with its time, EXPLAIN ANALYZE of the ticket ones, cProfile."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for page in pages:
        with CaptureQueriesContext(connection) as captured:
            _get(client, page)
        log(f"profile: {page.label} page, {len(captured)} queries")
        for query in captured.captured_queries:
            log(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:160]}")
        for query in captured.captured_queries:
            if 'FROM "tickets_ticket"' not in query["sql"]:
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
            log(f"profile: {page.label}: {query['sql']}\n{plan}")

    for page in (pages[0], pages[-1]):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(20):
            _get(client, page)
        profiler.disable()
        report = io.StringIO()
        stats = pstats.Stats(profiler, stream=report)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(20)
        log(f"profile: cProfile of 20 requests of the {page.label} page\n{report.getvalue()}")


def main(argv: list[str] | None = None) -> None:
    args = data.bench_arguments(
        __doc__, argv, profile="also print queries, plans and cProfile (stderr)"
    )
    began = time.perf_counter()

    log(f"bench_queue: re-creating database {BENCH_DB}")
    data.setup_database(BENCH_DB, redis_url=BENCH_REDIS_URL)
    people = data.seed_people_logged("bench_queue", PEOPLE)
    step = time.perf_counter()
    data.generate_tickets(people, count=TICKETS, now=_now(), mix=MIX, sla_targets=False)
    log(f"bench_queue: generated {TICKETS} tickets in {time.perf_counter() - step:.1f} s")
    _describe_data()

    pages = _pages()
    client = _client()
    _check_next_link(client, pages[0])
    first, deep = _measure(client, pages)
    _count_queries(client, pages)
    if args.profile:
        _profile(client, pages)

    print(f"bench: queue_p95_ms {_p95(first + deep):.1f} ms")
    print(f"bench: queue_first_page_p95_ms {_p95(first):.1f} ms")
    print(f"bench: queue_deep_page_p95_ms {_p95(deep):.1f} ms")
    log(f"bench_queue: total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
