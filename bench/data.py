"""What the PostgreSQL benchmarks share: a throw-away database, its people and its tickets.

`bench.scan`, `bench.queue` and `bench.report` each build their own database with these functions:
`setup_database` drops, re-creates and migrates it; `seed_people` adds agents, seniors, managers,
companies (every n-th one VIP, with the dedicated-agent add-on and its agents) and customers, in
bulk; `generate_tickets` inserts up to millions of tickets (and optionally one running SLA target
per active ticket) with one `INSERT … SELECT generate_series` inside PostgreSQL, indexes dropped
during the load and re-created after, then VACUUM ANALYZE. Every attribute comes from a hash of
the ticket number, so the same parameters always build the same rows. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

PG_SERVER = "postgres://postgres@127.0.0.1:5432"

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


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_database(name: str, *, redis_url: str) -> None:
    """Drop and re-create database `name`, point the test settings at it, set Django up, migrate.

    Call it before anything imports Django models: the settings are read once, here.
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        identifier = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))

    os.environ["DJANGO_SETTINGS_MODULE"] = "vipsupport.settings.test"
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{name}"
    os.environ["REDIS_URL"] = redis_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, stdout=sys.stderr)


def vacuum(tables: list[str], *, full: bool = False) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {'FULL ' if full else ''}ANALYZE {table}")


@dataclass(frozen=True)
class People:
    company_ids: list[int]  # VIP companies first
    vip_companies: int
    requester_ids: list[int]  # customers_per_company per company, in company_ids order
    customers_per_company: int
    agent_ids: list[int]  # tier-1 agents, the ones tickets get assigned to
    senior_ids: list[int]
    manager_ids: list[int]


@dataclass(frozen=True)
class Staffing:
    """How many companies (and which share VIP), customers and staff a benchmark seeds."""

    companies: int
    vip_every: int
    customers_per_company: int
    agents: int
    seniors: int
    managers: int


def bench_arguments(doc: str | None, argv: list[str] | None, *, profile: str) -> argparse.Namespace:
    """A benchmark's command line: `--profile` (what it prints is `profile`), parsed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--profile", action="store_true", help=profile)
    return parser.parse_args(argv)


def seed_people_logged(name: str, staffing: Staffing) -> People:
    """`seed_people` with a benchmark's staffing, saying on stderr how long it took."""
    step = time.perf_counter()
    people = seed_people(**asdict(staffing))
    log(f"{name}: seeded people in {time.perf_counter() - step:.1f} s")
    return people


def _numbered(prefix: str, n: int, count: int, *, width: int) -> str:
    return f"{prefix}{n:0{max(width, len(str(count - 1)))}}"


def seed_people(
    *,
    companies: int,
    vip_every: int,
    customers_per_company: int,
    agents: int,
    seniors: int,
    managers: int,
    started_on: datetime.date = datetime.date(2024, 1, 1),
) -> People:
    """Staff, companies and customers, in bulk; the rows are the ones the services would write.

    Company n is VIP when n is a multiple of `vip_every`: it holds the dedicated-agent add-on,
    with agent n as its dedicated agent and, for even n, agent n + 1 as its backup (modulo the
    number of agents). VIP and every third company are on the all-inclusive plan. The first row
    of each kind is validated with `full_clean()`, so the bulk path cannot drift from the rules.
    Ends with VACUUM ANALYZE of the tables it filled.
    """
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import (
        MANAGERS_GROUP,
        AddOn,
        AddOnSubscription,
        AgentProfile,
        AssignmentRole,
        Company,
        DedicatedAssignment,
        Plan,
        PlanSubscription,
        Tier,
        User,
    )

    def staff(email: str, first_name: str, last_name: str) -> User:
        user = User(email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        return user

    def insert(rows: list[Any]) -> list[Any]:
        if rows:
            rows[0].full_clean(validate_unique=False, validate_constraints=False)
            type(rows[0]).objects.bulk_create(rows, batch_size=5000)
        return rows

    agent_users = insert(
        [
            staff(_numbered("agent", n, agents, width=2) + "@bench.example", "Agent", f"{n:02}")
            for n in range(agents)
        ]
    )
    senior_users = insert(
        [staff(f"senior{n}@bench.example", "Senior", str(n)) for n in range(seniors)]
    )
    insert(
        [AgentProfile(user=user, tier=Tier.AGENT) for user in agent_users]
        + [AgentProfile(user=user, tier=Tier.SENIOR) for user in senior_users]
    )
    manager_users = insert([staff(f"manager{n}@bench.example", "", "") for n in range(managers)])
    Group.objects.get(name=MANAGERS_GROUP).user_set.add(*manager_users)

    standard = Plan.objects.get(code="standard")
    inclusive = Plan.objects.get(code="all-inclusive")
    addon = AddOn.objects.get(code=AddOn.DEDICATED_AGENT)
    rows = insert(
        [
            Company(
                name=_numbered("Bench Company ", n, companies, width=3),
                mail_alias=_numbered("bench-", n, companies, width=3),
            )
            for n in range(companies)
        ]
    )
    is_vip = [n % vip_every == 0 for n in range(companies)]
    insert(
        [
            PlanSubscription(
                company=company,
                plan=inclusive if is_vip[n] or n % 3 == 0 else standard,
                started_on=started_on,
            )
            for n, company in enumerate(rows)
        ]
    )
    insert(
        [
            AddOnSubscription(
                company=company,
                addon=addon,
                monthly_price=addon.monthly_price,
                currency=addon.currency,
                starts_on=started_on,
            )
            for n, company in enumerate(rows)
            if is_vip[n]
        ]
    )
    now = timezone.now()
    assigned_by = manager_users[0] if manager_users else None
    assignments = []
    for n, company in enumerate(rows):
        if not is_vip[n]:
            continue
        chosen = [(AssignmentRole.DEDICATED, agent_users[n % agents])]
        if n % 2 == 0:
            chosen.append((AssignmentRole.BACKUP, agent_users[(n + 1) % agents]))
        assignments += [
            DedicatedAssignment(
                company=company, agent=agent, role=role, valid_from=now, assigned_by=assigned_by
            )
            for role, agent in chosen
        ]
    insert(assignments)

    ordered = [c for n, c in enumerate(rows) if is_vip[n]] + [
        c for n, c in enumerate(rows) if not is_vip[n]
    ]
    customers = []
    for company in ordered:
        for m in range(customers_per_company):
            customer = User(
                email=f"user{m}@c{company.pk}.bench.example",
                first_name="Customer",
                last_name=str(m),
                company=company,
            )
            customer.set_unusable_password()
            customers.append(customer)
    insert(customers)
    # The server may run without autovacuum; plans must not rest on empty-table guesses.
    vacuum(
        [
            model._meta.db_table
            for model in (
                User,
                User.groups.through,
                AgentProfile,
                Company,
                PlanSubscription,
                AddOnSubscription,
                DedicatedAssignment,
            )
        ]
    )
    return People(
        company_ids=[company.pk for company in ordered],
        vip_companies=sum(is_vip),
        requester_ids=[customer.pk for customer in customers],
        customers_per_company=customers_per_company,
        agent_ids=[user.pk for user in agent_users],
        senior_ids=[user.pk for user in senior_users],
        manager_ids=[user.pk for user in manager_users],
    )


@dataclass(frozen=True)
class TicketMix:
    """How the generated tickets spread; per mille are of a hash, so the shares are approximate.

    Active tickets (new, or open for follow-up targets) have a deadline: every `due_every`-th
    ticket by number is 1 min to 1 day past it (breached), the others are at most
    `elapsed_permille` through their span (past 800 they are in the warning window). Waiting,
    solved and closed tickets have no deadline; solved and closed ones were opened in the last
    two years.
    """

    due_every: int = 1000
    elapsed_permille: int = 750
    open_permille: int = 1000  # new, open or waiting; the rest is solved (3/10) or closed
    waiting_permille: int = 0  # of the open ones
    tier2_permille: int = 0  # of the active ones, escalated to the seniors
    vip_tenths: int = 4  # tickets raised by VIP companies, in tenths


# One row of attributes per ticket/target, computed once in SQL from a hash of its number, in
# whole seconds (integer maths; MATERIALIZED keeps PostgreSQL from re-computing the hash).
# Future targets are part-way through their span; the due ones are 1 min to 1 day late. Spans
# follow the VIP policy; business clocks stretch over closed hours.
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
        END AS target_s,
        CASE WHEN h / 41 %% 1000 >= %(open_permille)s THEN
                 CASE WHEN h / 43 %% 10 < 3 THEN 'solved' ELSE 'closed' END
             WHEN h / 47 %% 1000 < %(waiting_permille)s THEN 'waiting'
             WHEN kind = 'follow_up' THEN 'open'
             ELSE 'new'
        END AS status
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
             ELSE -span_s::bigint * %(elapsed_permille)s * (h / 1000 %% 1000) / 1000000
        END AS start_s,
        CASE WHEN h / 13 %% 10 < %(vip_tenths)s THEN 1 + h / 17 %% %(vip)s
             ELSE 1 + %(vip)s + h / 17 %% (%(companies)s - %(vip)s) END AS company_no
    FROM clocked
)
SELECT i, severity, kind, status, status IN ('new', 'open') AS active,
    CASE WHEN status IN ('new', 'open') AND h / 53 %% 1000 < %(tier2_permille)s THEN 2 ELSE 1
        END AS tier,
    target_s * interval '1 second' AS target,
    CASE WHEN severity <= 2 THEN 'calendar' ELSE 'business' END AS clock,
    %(now)s + start_s * interval '1 second' AS started_at,
    %(now)s + (start_s + span_s) * interval '1 second' AS due_at,
    %(now)s + (start_s + span_s * 4 / 5) * interval '1 second' AS warn_at,
    CASE WHEN status IN ('solved', 'closed')
         THEN %(now)s - (3600 + h / 59 %% (730 * 86400)) * interval '1 second'
         ELSE %(now)s + (start_s - CASE WHEN kind = 'first_response' THEN 0
                                        ELSE 60 * (30 + h %% 600) END) * interval '1 second'
    END AS created_at,
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
    id, company_id, requester_id, subject, description, description_html, severity, status,
    channel, assignee_id, tier, created_at, updated_at, sla_clock_started_at, sla_due_at,
    sla_warn_at
)
-- The subjects and the description are plain words: their rendering is one paragraph.
SELECT i, company_id, requester_id, subject, subject || '. ' || %(description)s,
    '<p>' || subject || '. ' || %(description)s || '</p>' || chr(10), severity,
    status, channel, assignee_id, tier, created_at, GREATEST(started_at, created_at), created_at,
    CASE WHEN active THEN due_at END, CASE WHEN active THEN warn_at END
FROM bench_rows ORDER BY i
"""

_TARGETS_SQL = """
INSERT INTO sla_slatarget (
    id, ticket_id, kind, policy_id, severity, target, clock, calendar_id, received_at,
    started_at, warn_at, due_at, state, created_at
)
SELECT i, i, kind, %(policy_id)s, severity, target, clock, %(calendar_id)s, started_at,
    started_at, warn_at, due_at, 'active', started_at
FROM bench_rows WHERE active ORDER BY i
"""


def _bulk_load_settings(cursor: CursorWrapper) -> None:
    """Settings for one bulk-loading transaction: every reference is built to exist, so the
    million deferred foreign-key checks are skipped, and sorts get room."""
    cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute("SET LOCAL synchronous_commit = off")
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")


def drop_secondary_indexes(cursor: CursorWrapper, table: str) -> list[str]:
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


def generate_tickets(
    people: People,
    *,
    count: int,
    now: datetime.datetime,
    mix: TicketMix,
    sla_targets: bool,
) -> None:
    """`count` tickets numbered 1…count (and a running VIP-policy target per active ticket).

    Straight from generate_series inside PostgreSQL; ends with VACUUM ANALYZE of what it loaded.
    """
    from django.db import connection, transaction

    from sla.models import SlaPolicy

    params: dict[str, Any] = {
        "n": count,
        "now": now,
        "due_every": mix.due_every,
        "elapsed_permille": mix.elapsed_permille,
        "open_permille": mix.open_permille,
        "waiting_permille": mix.waiting_permille,
        "tier2_permille": mix.tier2_permille,
        "vip_tenths": mix.vip_tenths,
        "vip": people.vip_companies,
        "companies": len(people.company_ids),
        "company_ids": people.company_ids,
        "requester_ids": people.requester_ids,
        "per_company": people.customers_per_company,
        "agent_ids": people.agent_ids,
        "agents": len(people.agent_ids),
        "subjects": SUBJECTS,
        "subject_count": len(SUBJECTS),
        "description": DESCRIPTION,
    }
    loads = [("tickets_ticket", _TICKETS_SQL)]
    if sla_targets:
        policy = SlaPolicy.objects.get(code=SlaPolicy.VIP)
        params.update(policy_id=policy.pk, calendar_id=policy.calendar_id)
        loads.append(("sla_slatarget", _TARGETS_SQL))
    with transaction.atomic(), connection.cursor() as cursor:
        _bulk_load_settings(cursor)
        started = time.perf_counter()
        cursor.execute(_STAGING_SQL, params)
        log(f"  staging rows: {time.perf_counter() - started:.1f} s")
        for table, statement in loads:
            started = time.perf_counter()
            # Loading first and indexing after is several times faster than index maintenance
            # row by row; the indexes come back exactly as the migrations defined them.
            definitions = drop_secondary_indexes(cursor, table)
            cursor.execute(statement, params)
            loaded = time.perf_counter()
            for definition in definitions:
                cursor.execute(definition)
            log(
                f"  {table}: {loaded - started:.1f} s loading,"
                f" {time.perf_counter() - loaded:.1f} s for {len(definitions)} indexes"
            )
            # Rows came with explicit ids; move the identity sequence past them.
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, count])
        cursor.execute("DROP TABLE bench_rows")
    started = time.perf_counter()
    vacuum([table for table, _ in loads])
    log(f"  vacuum analyze: {time.perf_counter() - started:.1f} s")


# The SLA history of solved and closed tickets: the first response and, when the ticket's policy
# has one for its severity, 1 to 4 follow-ups, each starting 10 h to 2 days 10 h after the last.
# Every outcome comes from a hash of (ticket, n): breached answers took 1 to 3 times the target,
# met ones 5 to 100 % of it (mostly the lower end), stopped ones ended before it. Business-clock
# spans stretch 1.0 to 3.9 times over closed hours; nothing ends after `now`.
_HISTORY_SQL = """
INSERT INTO sla_slatarget (
    ticket_id, kind, policy_id, severity, target, clock, calendar_id, received_at, started_at,
    warn_at, due_at, state, warned_at, fulfilled_at, breached_at, cancelled_at, time_taken,
    created_at, assignee_id
)
WITH tickets AS MATERIALIZED (
    SELECT id, severity, created_at, assignee_id, abs(hashint8(-id)) AS h,
        CASE WHEN company_id = ANY(%(vip_company_ids)s) THEN %(vip_policy_id)s
             ELSE %(standard_policy_id)s END AS policy_id
    FROM tickets_ticket WHERE status IN ('solved', 'closed')
), planned AS (
    SELECT t.id, t.severity, t.policy_id, p.calendar_id, n, t.created_at, t.assignee_id,
        CASE WHEN n = 0 THEN 'first_response' ELSE 'follow_up' END AS kind,
        CASE WHEN n = 0 THEN r.first_response ELSE r.follow_up END AS target,
        CASE WHEN n = 0 THEN r.first_response_clock ELSE r.follow_up_clock END AS clock,
        t.created_at + n * (36000 + t.h / 7 %% 172800) * interval '1 second' AS started_at,
        abs(hashint8(t.id * 8 + n)) AS g
    FROM tickets AS t
    JOIN sla_slapolicytarget AS r ON r.policy_id = t.policy_id AND r.severity = t.severity
    JOIN sla_slapolicy AS p ON p.id = t.policy_id
    CROSS JOIN LATERAL generate_series(0, CASE WHEN r.follow_up IS NULL THEN 0
        ELSE (%(follow_ups)s::int[])[1 + t.h %% %(follow_up_choices)s] END) AS n
), spanned AS (
    SELECT *,
        extract(epoch FROM target)::float8
            * CASE WHEN clock = 'calendar' THEN 1 ELSE (10 + g %% 30) / 10.0::float8 END AS span_s,
        CASE WHEN g / 30 %% 1000 < %(cancelled_permille)s THEN 'cancelled' END AS stopped,
        (g / 30000 %% 1000) / 1000.0::float8 AS u
    FROM planned
    WHERE started_at < %(now)s - interval '1 minute'
), decided AS MATERIALIZED (
    SELECT *,
        LEAST(
            CASE WHEN stopped IS NOT NULL THEN u
                 WHEN g / 30 %% 1000 < %(cancelled_permille)s + %(breached_permille)s
                 THEN 1.0 + 2.0 * u
                 ELSE 0.05 + 0.95 * u * u END,
            extract(epoch FROM %(now)s - started_at)::float8 / span_s * 0.999
        ) AS f
    FROM spanned
), outcome AS (
    SELECT *,
        COALESCE(stopped, CASE WHEN f >= 1.0 THEN 'breached' ELSE 'fulfilled' END) AS state,
        started_at + span_s * f * interval '1 second' AS ended_at,
        started_at + span_s * interval '1 second' AS due_at,
        started_at + span_s * 0.8 * interval '1 second' AS warn_at
    FROM decided
)
SELECT id, kind, policy_id, severity, target, clock, calendar_id, started_at, started_at,
    warn_at, due_at, state, CASE WHEN f >= 0.8 THEN warn_at END,
    CASE WHEN state <> 'cancelled' THEN ended_at END,
    CASE WHEN state = 'breached' THEN due_at END,
    CASE WHEN state = 'cancelled' THEN ended_at END,
    CASE WHEN state <> 'cancelled' THEN target * f END,
    started_at, assignee_id
FROM outcome ORDER BY started_at
"""

# Tickets still new, open or waiting keep the deadline `generate_tickets` gave them: a new one has
# its first response running, an open one has it answered and a follow-up running (when its
# policy has one), a waiting one has it answered. A running target past its deadline is breached.
_CURRENT_SQL = """
INSERT INTO sla_slatarget (
    ticket_id, kind, policy_id, severity, target, clock, calendar_id, received_at, started_at,
    warn_at, due_at, state, warned_at, fulfilled_at, breached_at, cancelled_at, time_taken,
    created_at, assignee_id
)
WITH tickets AS (
    SELECT t.id, t.severity, t.status, t.created_at, t.updated_at, t.sla_due_at, t.sla_warn_at,
        t.assignee_id,
        p.id AS policy_id, p.calendar_id, r.first_response, r.first_response_clock,
        r.follow_up, r.follow_up_clock,
        LEAST(%(now)s, GREATEST(t.updated_at, t.created_at + interval '10 minutes'))
            AS answered_at
    FROM tickets_ticket AS t
    JOIN sla_slapolicy AS p ON p.id = CASE WHEN t.company_id = ANY(%(vip_company_ids)s)
        THEN %(vip_policy_id)s ELSE %(standard_policy_id)s END
    JOIN sla_slapolicytarget AS r ON r.policy_id = p.id AND r.severity = t.severity
    WHERE t.status IN ('new', 'open', 'waiting')
), running AS (
    SELECT id, severity, policy_id, calendar_id, assignee_id, updated_at AS started_at,
        sla_warn_at AS warn_at, sla_due_at AS due_at,
        CASE WHEN status = 'new' THEN 'first_response' ELSE 'follow_up' END AS kind,
        CASE WHEN status = 'new' THEN first_response ELSE follow_up END AS target,
        CASE WHEN status = 'new' THEN first_response_clock ELSE follow_up_clock END AS clock
    FROM tickets
    WHERE status = 'new' OR (status = 'open' AND follow_up IS NOT NULL)
), answered AS (
    SELECT id, severity, policy_id, calendar_id, assignee_id, created_at AS started_at,
        created_at + first_response * 0.8 AS warn_at, created_at + first_response AS due_at,
        answered_at, first_response AS target, first_response_clock AS clock
    FROM tickets WHERE status <> 'new'
)
SELECT id, kind, policy_id, severity, target, clock, calendar_id, started_at, started_at,
    warn_at, due_at, CASE WHEN due_at > %(now)s THEN 'active' ELSE 'breached' END,
    CASE WHEN warn_at <= %(now)s THEN warn_at END, NULL::timestamptz,
    CASE WHEN due_at <= %(now)s THEN due_at END, NULL::timestamptz, NULL::interval, started_at,
    assignee_id
FROM running
UNION ALL
SELECT id, 'first_response', policy_id, severity, target, clock, calendar_id, started_at,
    started_at, warn_at, due_at,
    CASE WHEN answered_at > due_at THEN 'breached' ELSE 'fulfilled' END,
    CASE WHEN answered_at >= warn_at THEN warn_at END, answered_at,
    CASE WHEN answered_at > due_at THEN due_at END, NULL::timestamptz, answered_at - started_at,
    started_at, assignee_id
FROM answered
"""

# Some tickets went to tier 2: asked by the customer, by an agent, or by the SLA engine.
_ESCALATIONS_SQL = """
INSERT INTO tickets_escalation (ticket_id, source, requested_by_id, reason, created_at)
SELECT id, source,
    CASE source WHEN 'customer' THEN requester_id WHEN 'agent' THEN assignee_id END,
    CASE source WHEN 'customer' THEN 'The customer asked for a senior engineer.'
                WHEN 'agent' THEN 'Needs tier-2 knowledge of the product.'
                ELSE '' END,  -- the SLA engine's reason is its source, named at display
    LEAST(%(now)s, created_at + (600 + h / 1000 %% 172800) * interval '1 second')
FROM (
    SELECT t.*, abs(hashint8(t.id + 1000003)) AS h,
        (ARRAY['customer', 'agent', 'sla'])[1 + abs(hashint8(t.id + 1000003)) / 7 %% 3] AS source
    FROM tickets_ticket AS t
) AS t
WHERE h %% 1000 < %(escalated_permille)s
ORDER BY 5
"""


def generate_sla_history(
    people: People,
    *,
    now: datetime.datetime,
    breached_permille: int = 50,
    cancelled_permille: int = 20,
    follow_ups: tuple[int, ...] = (1, 1, 2, 2, 3, 4),
    escalated_permille: int = 40,
) -> None:
    """The SLA targets and escalations of tickets made by `generate_tickets`, for reports.

    Solved and closed tickets get a decided history under their company's policy (VIP for the
    companies with the dedicated-agent add-on): a first response and, when the policy has a
    follow-up target for the severity, `follow_ups` of them (picked by hash). About
    `breached_permille` of those targets were breached and `cancelled_permille` stopped; the
    rest were met, with `time_taken` set. Open tickets get what their deadline says (a few hundred
    running targets); `escalated_permille` of all tickets have an escalation. Rows are inserted
    in time order, indexes dropped during the load and re-created after, then VACUUM ANALYZE.
    """
    from django.db import connection, transaction

    from sla.models import SlaPolicy

    policies = dict(SlaPolicy.objects.values_list("code", "pk"))
    params: dict[str, Any] = {
        "now": now,
        "vip_company_ids": people.company_ids[: people.vip_companies],
        "vip_policy_id": policies[SlaPolicy.VIP],
        "standard_policy_id": policies[SlaPolicy.STANDARD],
        "follow_ups": list(follow_ups),
        "follow_up_choices": len(follow_ups),
        "breached_permille": breached_permille,
        "cancelled_permille": cancelled_permille,
        "escalated_permille": escalated_permille,
    }
    loads = [
        ("sla_slatarget", [_HISTORY_SQL, _CURRENT_SQL]),
        ("tickets_escalation", [_ESCALATIONS_SQL]),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        _bulk_load_settings(cursor)
        for table, statements in loads:
            started = time.perf_counter()
            definitions = drop_secondary_indexes(cursor, table)
            rows = 0
            for statement in statements:
                cursor.execute(statement, params)
                rows += cursor.rowcount
            loaded = time.perf_counter()
            for definition in definitions:
                cursor.execute(definition)
            log(
                f"  {table}: {rows} rows, {loaded - started:.1f} s loading,"
                f" {time.perf_counter() - loaded:.1f} s for {len(definitions)} indexes"
            )
    started = time.perf_counter()
    vacuum([table for table, _ in loads])
    log(f"  vacuum analyze: {time.perf_counter() - started:.1f} s")
