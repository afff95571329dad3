"""Benchmark of the SLA breach scan on PostgreSQL; run as `python -m sla.bench_scan`.

Builds a throw-away database `vipsupport_bench` (dropped and re-created on every run) with a few
hundred companies, about 1 000 000 tickets and one running SLA target per ticket, of which 1 000
are past due. It times `sla_scan()` breaching those 1 000 rows (median of three runs, the rows
being reset in SQL between runs), then shrinks the data to 10 000 running targets that keep the
same 1 000 due rows and times the scan again. Stdout carries only the three `bench:` lines;
progress goes to stderr. `--profile` adds a query count, a cProfile summary and EXPLAIN ANALYZE
of the claim queries (on stderr, after the timed runs, so the figures are unaffected).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "vipsupport_bench"
# A Redis database of its own, so the Celery messages the scan publishes can be purged safely.
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"

NOW = datetime.datetime(2025, 11, 5, 10, 0, tzinfo=datetime.UTC)  # a Wednesday, mid-morning
BIG = 1_000_000
SMALL = 10_000
DUE_EVERY = 1_000  # target ids divisible by this are the 1 000 past-due rows, spread evenly
RUNS = 3

COMPANIES = 300
VIP_EVERY = 5  # every fifth company holds the dedicated-agent add-on: 60 VIP companies
CUSTOMERS_PER_COMPANY = 3
AGENTS = 40
SENIORS = 6
MANAGERS = 2

SUBJECTS = [
    "Login fails after password reset",
    "Nightly export is slow",
    "Invoice totals do not match",
    "API returns 502 intermittently",
    "Cannot add a new user",
    "Report shows wrong time zone",
    "Webhook deliveries delayed",
    "Feature request: CSV import",
]
DESCRIPTION = (
    "Since this morning several of our users see the problem described in the subject. "
    "It happens on every browser we tried and also through the API. We attached the steps "
    "to reproduce it and the request ids from our logs; please call us back when you can."
)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _configure_django() -> None:
    """Point the test settings at the bench database and Redis, then set Django up."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "vipsupport.settings.test"
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{BENCH_DB}"
    os.environ["REDIS_URL"] = BENCH_REDIS_URL
    import django

    django.setup()


def _recreate_database() -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        name = sql.Identifier(BENCH_DB)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _purge_celery_queue() -> int:
    from vipsupport.celery import app

    return int(app.control.purge() or 0)


def _warm_up_celery() -> None:
    """Open the broker connection once, as a long-running worker has it open already."""
    from tickets.tasks import send_pending_notification_emails

    send_pending_notification_emails.delay()
    _purge_celery_queue()


def _queued_messages() -> int:
    import redis

    client = redis.Redis.from_url(BENCH_REDIS_URL)
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


@dataclass(frozen=True)
class People:
    company_ids: list[int]  # VIP companies first
    vip_companies: int
    requester_ids: list[int]  # CUSTOMERS_PER_COMPANY per company, in company order
    agent_ids: list[int]
    policy_id: int
    calendar_id: int


def _seed_people() -> People:
    """Companies, plans, the add-on and assignments through the services; customers in bulk."""
    from django.contrib.auth.models import Group

    from accounts import services as accounts
    from accounts.models import MANAGERS_GROUP, Company, Plan, Tier, User
    from sla.models import SlaPolicy

    started = datetime.date(2024, 1, 1)
    standard = Plan.objects.get(code="standard")
    inclusive = Plan.objects.get(code="all-inclusive")
    agents = [
        accounts.agent_create(
            email=f"agent{n:02}@bench.example",
            password=None,
            first_name="Agent",
            last_name=f"{n:02}",
            tier=Tier.AGENT,
        )
        for n in range(AGENTS)
    ]
    for n in range(SENIORS):
        accounts.agent_create(
            email=f"senior{n}@bench.example",
            password=None,
            first_name="Senior",
            last_name=str(n),
            tier=Tier.SENIOR,
        )
    managers_group = Group.objects.get(name=MANAGERS_GROUP)
    managers = []
    for n in range(MANAGERS):
        manager = User.objects.create_user(email=f"manager{n}@bench.example", password=None)
        manager.groups.add(managers_group)
        managers.append(manager)
    vip: list[Company] = []
    others: list[Company] = []
    for n in range(COMPANIES):
        is_vip = n % VIP_EVERY == 0
        plan = inclusive if is_vip or n % 3 == 0 else standard
        company = accounts.company_create(
            name=f"Bench Company {n:03}", plan=plan, started_on=started
        )
        if is_vip:
            accounts.addon_subscribe(company=company, starts_on=started)
            accounts.company_assign_agents(
                company=company,
                dedicated=agents[n % AGENTS],
                backup=agents[(n + 1) % AGENTS] if n % 2 == 0 else None,
                assigned_by=managers[0],
            )
            vip.append(company)
        else:
            others.append(company)
    companies = vip + others
    customers = []
    for company in companies:
        for m in range(CUSTOMERS_PER_COMPANY):
            customer = User(
                email=f"user{m}@c{company.pk}.bench.example",
                first_name="Customer",
                last_name=str(m),
                company=company,
            )
            customer.set_unusable_password()
            customers.append(customer)
    User.objects.bulk_create(customers)
    policy = SlaPolicy.objects.get(code=SlaPolicy.VIP)
    return People(
        company_ids=[company.pk for company in companies],
        vip_companies=len(vip),
        requester_ids=[customer.pk for customer in customers],
        agent_ids=[agent.pk for agent in agents],
        policy_id=policy.pk,
        calendar_id=policy.calendar_id,
    )


# One row of attributes per ticket/target, computed once in SQL from a hash of its number, in
# whole seconds (integer maths; MATERIALIZED keeps PostgreSQL from re-computing the hash).
# Future targets are part-way through their span and warn only after NOW; the due ones are
# 1 min to 1 day late. Spans follow the VIP policy; business clocks stretch over closed hours.
_STAGING_SQL = """
CREATE UNLOGGED TABLE bench_rows AS
WITH base AS MATERIALIZED (
    SELECT i, abs(hashint8(i)) AS h FROM generate_series(1, %(n)s::bigint) AS i
), graded AS (
    SELECT i, h,
        CASE WHEN h %% 100 < 5 THEN 1 WHEN h %% 100 < 20 THEN 2 WHEN h %% 100 < 55 THEN 3
             WHEN h %% 100 < 75 THEN 4 ELSE 5 END AS severity
    FROM base
), shaped AS MATERIALIZED (
    SELECT i, h, severity,
        CASE WHEN severity <= 3 AND h / 100 %% 10 < 4 THEN 'follow_up' ELSE 'first_response'
        END AS kind
    FROM graded
), spans AS (
    SELECT *,
        CASE WHEN kind = 'first_response' THEN
                 CASE WHEN severity <= 2 THEN 3600 WHEN severity = 3 THEN 7200 ELSE 28800 END
             ELSE CASE WHEN severity <= 2 THEN 14400 ELSE 57600 END
        END AS target_s
    FROM shaped
), clocked AS (
    SELECT *,
        CASE WHEN severity <= 2 THEN target_s ELSE target_s * (10 + h / 1000000 %% 30) / 10 END
            AS span_s
    FROM spans
), started AS MATERIALIZED (
    SELECT *,
        CASE WHEN i %% %(due_every)s = 0
             THEN -span_s - 60 * (1 + i / %(due_every)s * 37 %% 1440)
             ELSE -span_s * 3 * (h / 1000 %% 1000) / 4000
        END AS start_s,
        CASE WHEN h / 13 %% 10 < 4 THEN 1 + h / 17 %% %(vip)s
             ELSE 1 + %(vip)s + h / 17 %% (%(companies)s - %(vip)s) END AS company_no
    FROM clocked
)
SELECT i, severity, kind,
    target_s * interval '1 second' AS target,
    CASE WHEN severity <= 2 THEN 'calendar' ELSE 'business' END AS clock,
    %(now)s + start_s * interval '1 second' AS started_at,
    %(now)s + (start_s + span_s) * interval '1 second' AS due_at,
    %(now)s + (start_s + span_s * 4 / 5) * interval '1 second' AS warn_at,
    %(now)s + (start_s - CASE WHEN kind = 'first_response' THEN 0 ELSE 60 * (30 + h %% 600) END)
        * interval '1 second' AS created_at,
    (%(company_ids)s::bigint[])[company_no] AS company_id,
    (%(requester_ids)s::bigint[])[
        (company_no - 1) * %(per_company)s + 1 + h / 19 %% %(per_company)s
    ] AS requester_id,
    CASE WHEN kind = 'follow_up' OR h / 29 %% 2 = 0
         THEN (%(agent_ids)s::bigint[])[1 + h / 31 %% %(agents)s] END AS assignee_id,
    (ARRAY['web', 'email', 'chat', 'voicemail', 'phone'])[1 + h / 23 %% 5] AS channel,
    (%(subjects)s::text[])[1 + h / 37 %% %(subject_count)s] || ' (#' || i || ')' AS subject
FROM started
"""

_TICKETS_SQL = """
INSERT INTO tickets_ticket (
    id, company_id, requester_id, subject, description, severity, status, channel, assignee_id,
    tier, created_at, updated_at, sla_clock_started_at, sla_due_at, sla_warn_at
)
SELECT i, company_id, requester_id, subject, subject || '. ' || %(description)s, severity,
    CASE WHEN kind = 'follow_up' THEN 'open' ELSE 'new' END, channel, assignee_id,
    1, created_at, started_at, created_at, due_at, warn_at
FROM bench_rows ORDER BY i
"""

_TARGETS_SQL = """
INSERT INTO sla_slatarget (
    id, ticket_id, kind, policy_id, severity, target, clock, calendar_id, received_at,
    started_at, warn_at, due_at, state, created_at
)
SELECT i, i, kind, %(policy_id)s, severity, target, clock, %(calendar_id)s, started_at,
    started_at, warn_at, due_at, 'active', started_at
FROM bench_rows ORDER BY i
"""

TOUCHED_TABLES = [
    "sla_slatarget",
    "tickets_ticket",
    "tickets_ticketevent",
    "tickets_notification",
    "tickets_escalation",
]


def _vacuum(tables: list[str], *, full: bool = False) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {'FULL ' if full else ''}ANALYZE {table}")


def _generate(people: People) -> None:
    """About 1M tickets and targets, straight from generate_series inside PostgreSQL."""
    from django.db import connection, transaction

    params: dict[str, Any] = {
        "n": BIG,
        "due_every": DUE_EVERY,
        "now": NOW,
        "vip": people.vip_companies,
        "companies": len(people.company_ids),
        "company_ids": people.company_ids,
        "requester_ids": people.requester_ids,
        "per_company": CUSTOMERS_PER_COMPANY,
        "agent_ids": people.agent_ids,
        "agents": len(people.agent_ids),
        "subjects": SUBJECTS,
        "subject_count": len(SUBJECTS),
        "description": DESCRIPTION,
        "policy_id": people.policy_id,
        "calendar_id": people.calendar_id,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Every reference is built to exist, so skip the million deferred foreign-key checks.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        cursor.execute(_STAGING_SQL, params)
        _log(f"  staging rows: {time.perf_counter() - started:.1f} s")
        for table, statement in (("tickets_ticket", _TICKETS_SQL), ("sla_slatarget", _TARGETS_SQL)):
            started = time.perf_counter()
            # Loading first and indexing after is several times faster than index maintenance
            # row by row; the indexes come back exactly as the migrations defined them.
            definitions = _drop_secondary_indexes(cursor, table)
            cursor.execute(statement, params)
            loaded = time.perf_counter()
            for definition in definitions:
                cursor.execute(definition)
            _log(
                f"  {table}: {loaded - started:.1f} s loading,"
                f" {time.perf_counter() - loaded:.1f} s for {len(definitions)} indexes"
            )
            # Rows came with explicit ids; move the identity sequence past them.
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, BIG])
        cursor.execute("DROP TABLE bench_rows")


def _drop_secondary_indexes(cursor: CursorWrapper, table: str) -> list[str]:
    """Drop the indexes that back no constraint and return their CREATE INDEX statements."""
    cursor.execute(
        "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid)"
        " FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes]


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--profile", action="store_true", help="also print query counts and plans (stderr)"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()

    _log(f"bench_scan: re-creating database {BENCH_DB}")
    _recreate_database()
    _configure_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, stdout=sys.stderr)
    _warm_up_celery()

    step = time.perf_counter()
    people = _seed_people()
    _log(f"bench_scan: seeded people in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    _generate(people)
    _vacuum(TOUCHED_TABLES)
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
