"""Benchmark of the SLA breach scan on PostgreSQL; run as `python -m bench.scan`.

Builds a throw-away database `vipsupport_bench` (dropped and re-created on every run) with a few
hundred companies, about 1 000 000 tickets and one running SLA target per ticket, of which 1 000
are past due. It times `sla_scan()` breaching those 1 000 rows (median of three runs, the rows
being reset in SQL between runs), then shrinks the data to 10 000 running targets that keep the
same 1 000 due rows and times the scan again. Stdout carries only the three `bench:` lines;
progress goes to stderr. `--profile` adds a query count, a cProfile summary and EXPLAIN ANALYZE
of the claim queries (on stderr, after the timed runs, so the figures are unaffected). The
database, its people and its tickets are built by `bench.data`, shared with the other benches.
"""

from __future__ import annotations

import cProfile
import datetime
import io
import os
import pstats
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from bench import data
from bench.data import TicketMix

BENCH_DB = "vipsupport_bench"
# A Redis database of its own, so the Celery messages the scan publishes can be purged safely.
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"

NOW = datetime.datetime(2025, 11, 5, 10, 0, tzinfo=datetime.UTC)  # a Wednesday, mid-morning
BIG = 1_000_000
SMALL = 10_000
DUE_EVERY = 1_000  # target ids divisible by this are the 1 000 past-due rows, spread evenly
RUNS = 3

# Every ticket is active (new or open) with one running target, none in its warning window;
# 4 in 10 come from the VIP companies.
MIX = TicketMix(due_every=DUE_EVERY, elapsed_permille=750, vip_tenths=4)
# every fifth company holds the dedicated-agent add-on: 60 VIP companies
PEOPLE = data.Staffing(
    companies=300,
    vip_every=5,
    customers_per_company=3,
    agents=40,
    seniors=6,
    managers=2,
)

_log = data.log


def _purge_celery_queue() -> int:
    from vipsupport.celery import app

    return int(app.control.purge() or 0)


def _warm_up_celery() -> None:
    """Open the broker connection once, as a long-running worker has it open already."""
    from sla.tasks import scan_breaches

    scan_breaches.delay()  # purged unrun: any task's message opens the connection
    _purge_celery_queue()


def _queued_messages() -> int:
    import redis

    client = redis.Redis.from_url(BENCH_REDIS_URL)
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


# What a scan writes besides the targets and tickets themselves.
TOUCHED_TABLES = [
    "sla_slatarget",
    "tickets_ticket",
    "tickets_ticketevent",
    "tickets_notification",
    "tickets_escalation",
]
_vacuum = data.vacuum


@dataclass(frozen=True)
class DueSet:
    target_ids: list[int]
    ticket_ids: list[int]
    escalations: int


def _due_set() -> DueSet:
    from sla.models import SlaTarget, TargetKind, TargetState
    from sla.services import ESCALATING_SEVERITIES

    due = SlaTarget.objects.filter(state=TargetState.ACTIVE, due_at__lte=NOW)
    rows = list(due.values_list("pk", "ticket_id", "kind", "severity"))
    warnable = SlaTarget.objects.filter(
        state=TargetState.ACTIVE, warned_at__isnull=True, warn_at__lte=NOW, due_at__gt=NOW
    )
    if len(rows) != DUE_EVERY or warnable.exists():
        raise RuntimeError(f"expected {DUE_EVERY} due and no warnable targets, got {len(rows)}")
    escalations = sum(
        1
        for _, _, kind, severity in rows
        if kind == TargetKind.FIRST_RESPONSE and severity in ESCALATING_SEVERITIES
    )
    return DueSet(
        target_ids=[row[0] for row in rows],
        ticket_ids=[row[1] for row in rows],
        escalations=escalations,
    )


def _reset(due: DueSet) -> None:
    """Undo one scan in SQL: the rows run again and what the scan wrote is gone."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sla_slatarget SET state = 'active', breached_at = NULL, warned_at = NULL"
            " WHERE id = ANY(%s)",
            [due.target_ids],
        )
        for table in ("tickets_notification", "tickets_escalation", "tickets_ticketevent"):
            # Table names come from the constant tuple above, never from input.
            statement = f"DELETE FROM {table} WHERE ticket_id = ANY(%s)"  # noqa: S608
            cursor.execute(statement, [due.ticket_ids])
        cursor.execute(
            "UPDATE tickets_ticket SET tier = 1 WHERE id = ANY(%s) AND tier <> 1", [due.ticket_ids]
        )
    _vacuum(TOUCHED_TABLES)


def _scan_once(due: DueSet) -> tuple[float, float]:
    """Wall time of one scan, and the CPU time this process spent in it (the rest is waiting)."""
    from sla.services import sla_scan

    cpu = time.process_time()
    started = time.perf_counter()
    result = sla_scan(now=NOW)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    expected = (0, len(due.target_ids), due.escalations)
    if (result.warned, result.breached, result.escalated) != expected:
        raise RuntimeError(f"scan did {result}, expected (warned, breached, escalated)={expected}")
    return elapsed, cpu


def _measure(label: str, due: DueSet) -> float:
    samples = []
    for run in range(1, RUNS + 1):
        seconds, cpu = _scan_once(due)
        samples.append(seconds)
        queued = _queued_messages()
        _log(
            f"  {label} run {run}: {seconds:.3f} s wall, {cpu:.3f} s Python CPU,"
            f" {queued} Celery messages queued, load average {os.getloadavg()[0]:.1f}"
        )
        _reset(due)
        _purge_celery_queue()
    return statistics.median(samples)


def _active_targets() -> int:
    from sla.models import SlaTarget, TargetState

    return SlaTarget.objects.filter(state=TargetState.ACTIVE).count()


def _shrink_to_small() -> None:
    """Keep the 1 000 due targets and 9 000 future ones, and only their tickets."""
    from django.db import connection, transaction

    keep = SMALL // DUE_EVERY  # ids whose remainder is below this: 0 (due) and 1..9 (future)
    with transaction.atomic(), connection.cursor() as cursor:
        # Only unreferenced tickets go, so the per-row foreign-key checks can be skipped.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM sla_slatarget WHERE id %% %s >= %s", [DUE_EVERY, keep])
        cursor.execute(
            "DELETE FROM tickets_ticket AS t WHERE NOT EXISTS"
            " (SELECT 1 FROM sla_slatarget AS s WHERE s.ticket_id = t.id)"
        )
    _vacuum(["sla_slatarget", "tickets_ticket"], full=True)
    _vacuum(TOUCHED_TABLES[2:])


_VERB_TABLE = re.compile(r'^\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+"(\w+)")?', re.S)


def _profile(due: DueSet) -> None:
    """Query count, cProfile and EXPLAIN ANALYZE of one scan; stderr only, never timed."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from sla.models import SlaTarget, TargetState
    from sla.services import sla_scan

    with CaptureQueriesContext(connection) as captured:
        sla_scan(now=NOW)
    groups: Counter[str] = Counter()
    seconds: dict[str, float] = {}
    for query in captured.captured_queries:
        match = _VERB_TABLE.match(query["sql"])
        verb, table = (match.group(1), match.group(2) or "") if match else ("?", "")
        key = f"{verb.upper()} {table}".strip()
        groups[key] += 1
        seconds[key] = seconds.get(key, 0.0) + float(query["time"])
    _log(f"profile: one scan of {len(due.target_ids)} due rows ran {len(captured)} queries")
    for key, count in groups.most_common():
        _log(f"  {count:6d}  {seconds[key] * 1000:8.1f} ms  {key}")
    slowest = sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:8]
    _log("profile: slowest queries")
    for query in slowest:
        _log(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:150]}")
    _reset(due)
    _purge_celery_queue()

    profiler = cProfile.Profile()
    profiler.enable()
    sla_scan(now=NOW)
    profiler.disable()
    report = io.StringIO()
    pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(30)
    _log(report.getvalue())
    _reset(due)
    _purge_celery_queue()

    claims = {
        "breach claim": SlaTarget.objects.filter(
            state=TargetState.ACTIVE, due_at__lte=NOW
        ).order_by("due_at"),
        "warning claim": SlaTarget.objects.filter(
            state=TargetState.ACTIVE, warned_at__isnull=True, warn_at__lte=NOW, due_at__gt=NOW
        ).order_by("warn_at"),
    }
    for label, queryset in claims.items():
        with transaction.atomic(), connection.cursor() as cursor:
            claim = queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)
            sql, params = claim[:DUE_EVERY].query.sql_with_params()
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
            transaction.set_rollback(True)
        _log(f"profile: {label}: {sql} with {params}\n{plan}")


def main(argv: list[str] | None = None) -> None:
    args = data.bench_arguments(__doc__, argv, profile="also print query counts and plans (stderr)")
    began = time.perf_counter()

    _log(f"bench_scan: re-creating database {BENCH_DB}")
    data.setup_database(BENCH_DB, redis_url=BENCH_REDIS_URL)
    _warm_up_celery()

    people = data.seed_people_logged("bench_scan", PEOPLE)
    step = time.perf_counter()
    data.generate_tickets(people, count=BIG, now=NOW, mix=MIX, sla_targets=True)
    _vacuum(TOUCHED_TABLES[2:])
    _log(f"bench_scan: generated {BIG} tickets and targets in {time.perf_counter() - step:.1f} s")

    due = _due_set()
    _log(
        f"bench_scan: {_active_targets()} active targets, {len(due.target_ids)} due,"
        f" {due.escalations} of them escalate"
    )
    big = _measure("1M", due)
    if args.profile:
        _profile(due)

    step = time.perf_counter()
    _shrink_to_small()
    due = _due_set()
    active = _active_targets()
    if active != SMALL:
        raise RuntimeError(f"expected {SMALL} active targets after shrinking, got {active}")
    _log(f"bench_scan: shrank to {active} active targets in {time.perf_counter() - step:.1f} s")
    small = _measure("10k", due)
    _purge_celery_queue()

    print(f"bench: scan_1k_due_of_1m_s {big:.3f} s")
    print(f"bench: scan_1k_due_of_10k_s {small:.3f} s")
    print(f"bench: scan_flatness_ratio {big / small:.2f} x")
    _log(f"bench_scan: total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
