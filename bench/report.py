"""Benchmark of the managers' SLA report on PostgreSQL; run as `python -m bench.report`.

Builds a throw-away database `vipsupport_bench_report` (dropped and re-created on every run, with
`bench.data`) holding 2 000 companies (every tenth VIP, with the dedicated-agent add-on,
raising 8 tickets in 10), 200 agents and 1 000 000 tickets created over about 14 months, nearly
all solved or closed. Their SLA history comes to about 2 000 000 targets: a first response for
every ticket and 1 to 4 follow-ups for those whose policy has one (VIP, severities 1 to 3); about
5 % breached, 2 % stopped, the rest met with their time taken, and a few hundred still running.
About 4 % of the tickets were escalated. A month holds about 145 000 targets.

It then times the server side of the report page for October 2026 as a manager sees it,
`GET /reports/sla/?period=custom&first=2026-10-01&last=2026-10-31` through Django's test client
(middleware, view, every query of `report_build()` and of the first page of 50 breaches, and the
templates; no network). One warm-up, then the median of five runs. Stdout carries only the
`bench:` line; progress, the report's figures and the time of each query go to stderr.
`--profile` adds EXPLAIN (ANALYZE, BUFFERS) of every query (on stderr, after the timed runs, so
the figures are unaffected). `--reuse` keeps the database of an earlier run when it was built
from the same generator and parameters (pending migrations, such as a new index, are applied to
it), which saves the minute or two of generation.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bench import data
from bench.data import TicketMix

if TYPE_CHECKING:
    from django.test import Client

BENCH_DB = "vipsupport_bench_report"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/12"

NOW = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=datetime.UTC)  # a Monday, mid-morning
YEAR, MONTH = 2026, 10
ZONE = "Europe/Berlin"
URL = "/reports/sla/?period=custom&first=2026-10-01&last=2026-10-31"
PAGE = 50  # breached targets on the report's first page

TICKETS = 1_000_000
# 200 VIP companies
PEOPLE = data.Staffing(
    companies=2_000,
    vip_every=10,
    customers_per_company=3,
    agents=190,
    seniors=10,
    managers=2,
)
MIX = TicketMix(
    open_permille=3,  # ~3 000 tickets still open…
    waiting_permille=700,  # …most of them waiting on the customer: a few hundred running targets
    due_every=1_000,
    elapsed_permille=1_000,
    vip_tenths=8,
)
BREACHED_PERMILLE = 50
CANCELLED_PERMILLE = 20
FOLLOW_UPS = (1, 1, 2, 2, 3, 4)  # per ticket whose policy has a follow-up target
ESCALATED_PERMILLE = 40

WARM_UP = 1
RUNS = 5

log = data.log
_BREACH_ROW = re.compile(rb'<tr><td><a href="[^"]+">#\d+ ')


def _fingerprint() -> str:
    """What the data depends on: the shared generator's code and this bench's parameters."""
    parameters = (
        NOW,
        TICKETS,
        PEOPLE,
        MIX,
        BREACHED_PERMILLE,
        CANCELLED_PERMILLE,
        FOLLOW_UPS,
        ESCALATED_PERMILLE,
    )
    digest = hashlib.sha256(Path(data.__file__).read_bytes())
    digest.update(repr(parameters).encode())
    return f"bench_report {digest.hexdigest()[:16]}"


def _reuse_database() -> bool:
    """Open the database of an earlier run when it holds this fingerprint, and migrate it."""
    import psycopg

    with psycopg.connect(f"{data.PG_SERVER}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [BENCH_DB],
        ).fetchone()
    if row is None or row[0] != _fingerprint():
        return False
    os.environ["DJANGO_SETTINGS_MODULE"] = "vipsupport.settings.test"
    os.environ["DATABASE_URL"] = f"{data.PG_SERVER}/{BENCH_DB}"
    os.environ["REDIS_URL"] = BENCH_REDIS_URL
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1, stdout=sys.stderr)
    return True


def _build_database() -> None:
    data.setup_database(BENCH_DB, redis_url=BENCH_REDIS_URL)
    people = data.seed_people_logged("bench_report", PEOPLE)
    step = time.perf_counter()
    data.generate_tickets(people, count=TICKETS, now=NOW, mix=MIX, sla_targets=False)
    log(f"bench_report: generated {TICKETS} tickets in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    data.generate_sla_history(
        people,
        now=NOW,
        breached_permille=BREACHED_PERMILLE,
        cancelled_permille=CANCELLED_PERMILLE,
        follow_ups=FOLLOW_UPS,
        escalated_permille=ESCALATED_PERMILLE,
    )
    log(f"bench_report: generated the SLA history in {time.perf_counter() - step:.1f} s")

    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        statement = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(BENCH_DB), sql.Literal(_fingerprint())
        )
        cursor.execute(statement.as_string(cursor.connection))


def _describe_data() -> None:
    from django.db.models import Count

    from sla.models import SlaTarget
    from sla.reports import month_period
    from tickets.models import Escalation, Ticket

    period = month_period(YEAR, MONTH, _zone())
    states = dict(SlaTarget.objects.values_list("state").annotate(n=Count("pk")).order_by())
    in_month = SlaTarget.objects.filter(due_at__gte=period.start, due_at__lt=period.end).count()
    log(
        f"bench_report: {Ticket.objects.count()} tickets, {sum(states.values())} SLA targets"
        f" ({', '.join(f'{n} {state}' for state, n in sorted(states.items()))}),"
        f" {in_month} due in {YEAR}-{MONTH:02}, {Escalation.objects.count()} escalations"
    )


def _zone() -> ZoneInfo:
    return ZoneInfo(ZONE)


def _view_exists() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(URL.partition("?")[0])
    except Resolver404:
        return False
    return True


def _client() -> Client:
    from django.test import Client

    from accounts.models import User

    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(email="manager0@bench.example"))
    return client


def _through_view(client: Client) -> None:
    response = client.get(URL)
    if response.status_code != 200:
        raise RuntimeError(f"{URL} answered {response.status_code}")
    _, _, table = response.content.partition(b'data-testid="breaches"')
    rows = len(_BREACH_ROW.findall(table))
    if rows != PAGE:
        raise RuntimeError(f"{URL} listed {rows} breaches, expected {PAGE}")


def _describe_report() -> None:
    """The figures the timed report shows, so a run on wrong data is noticed."""
    from sla.reports import ReportFilters, month_period, report_build

    report = report_build(filters=ReportFilters(period=month_period(YEAR, MONTH, _zone())))
    totals = report.totals
    log(
        f"bench_report: report {YEAR}-{MONTH:02}: {totals.due} due, {totals.met} met,"
        f" {totals.breached} breached, {totals.running} running, compliance"
        f" {totals.compliance or 0:.1f} %, median {totals.median}, p90 {totals.p90};"
        f" {len(report.compliance)} metric rows, {len(report.agents)} agent rows,"
        f" escalations {report.escalations}, {len(report.trend)} weeks of trend"
    )


def _measure(run: Callable[[], None]) -> float:
    for _ in range(WARM_UP):
        run()
    samples = []
    for n in range(1, RUNS + 1):
        cpu = time.process_time()
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        samples.append(seconds)
        log(
            f"  run {n}: {seconds:.3f} s wall, {time.process_time() - cpu:.3f} s Python CPU,"
            f" load average {os.getloadavg()[0]:.1f}"
        )
    return statistics.median(samples)


def _queries(run: Callable[[], None], *, explain: bool) -> None:
    """The time of every query of one report (and its plan with `explain`), on stderr."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    total = sum(float(query["time"]) for query in captured.captured_queries)
    log(f"bench_report: one report ran {len(captured)} queries, {total:.3f} s in the database")
    for query in captured.captured_queries:
        log(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:200]}")
    if not explain:
        return
    for query in captured.captured_queries:
        if not query["sql"].lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        log(f"profile: {query['sql']}\n{plan}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--profile", action="store_true", help="also print EXPLAIN ANALYZE of every query (stderr)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of an earlier run built from the same generator and parameters",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()

    if args.reuse and _reuse_database():
        log(f"bench_report: reusing database {BENCH_DB}")
    else:
        log(f"bench_report: re-creating database {BENCH_DB}")
        _build_database()
        log(f"bench_report: built the data in {time.perf_counter() - began:.0f} s")
    _describe_data()
    _describe_report()

    if not _view_exists():
        raise RuntimeError(f"no view answers {URL}")
    client = _client()
    log(f"bench_report: timing GET {URL} as a manager, through the test client")

    def run() -> None:
        _through_view(client)

    median = _measure(run)
    _queries(run, explain=args.profile)

    print(f"bench: report_1m_s {median:.3f} s")
    log(f"bench_report: total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
