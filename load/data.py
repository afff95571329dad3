"""The load test's database `vipsupport_load`: the 1M-ticket benchmark data plus what people need.

Built with `bench.data` (the same generators as `bench.queue` and `bench.report`): 2 000 companies
(every tenth VIP, with the dedicated-agent add-on), 3 customers each, 190 agents, 10 seniors,
2 managers, 1 000 000 tickets (~150 000 still open, as in `bench.queue`) and their SLA history
(~2 000 000 targets, as in `bench.report`). On top: one password (`LOAD_PASSWORD`, hashed once
with production's PBKDF2 hasher and bulk-written) for the accounts the journeys sign in as, and a
call schedule for every agent, so VIP customers can book calls.

The database carries a fingerprint (`COMMENT ON DATABASE`) of these parameters and the
generators' code; a run that finds it reuses the database (after `migrate`) instead of spending
minutes regenerating; `--rebuild` forces a new one. Deadlines are relative to the moment of the
build, so an old database has more tickets past their deadline.

`accounts_file` writes, on every run, fresh API tokens (old load tokens revoked) and the list of
accounts the locust users sign in as, as JSON for the locustfile.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from bench import data
from bench.data import TicketMix

LOAD_DB = "vipsupport_load"
LOAD_REDIS_URL = "redis://127.0.0.1:6379/12"
LOAD_PASSWORD = "load-test-password"  # noqa: S105 - a throw-away database's test accounts
TOKEN_NAME = "load test"  # noqa: S105 - the name of the API tokens, not one

TICKETS = 1_000_000
PEOPLE = data.Staffing(
    companies=2_000,
    vip_every=10,  # 200 VIP companies, 600 customers who may book calls
    customers_per_company=3,
    agents=190,
    seniors=10,
    managers=2,
)
MIX = TicketMix(
    open_permille=150,  # ~150 000 open tickets, the rest solved or closed
    waiting_permille=200,
    due_every=10,
    elapsed_permille=1000,
    tier2_permille=30,
    vip_tenths=3,
)

log = data.log


# Raise it when `build` changes what it writes.
DATA_VERSION = 1


def _fingerprint() -> str:
    """What the data depends on: the shared generator's code and this build's parameters."""
    parameters = (DATA_VERSION, TICKETS, PEOPLE, MIX, LOAD_PASSWORD)
    digest = hashlib.sha256(Path(data.__file__).read_bytes())
    digest.update(repr(parameters).encode())
    return f"load {digest.hexdigest()[:16]}"


def _use_settings() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "vipsupport.settings.test"
    os.environ["DATABASE_URL"] = f"{data.PG_SERVER}/{LOAD_DB}"
    os.environ["REDIS_URL"] = LOAD_REDIS_URL


def _reuse_database() -> bool:
    """Open the database of an earlier run when it holds this fingerprint, and migrate it."""
    import psycopg

    with psycopg.connect(f"{data.PG_SERVER}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [LOAD_DB],
        ).fetchone()
    if row is None or row[0] != _fingerprint():
        return False
    _use_settings()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, stdout=sys.stderr)
    return True


def _usable_passwords() -> int:
    """One production hash (PBKDF2, as the server checks it) written to every load account."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db.models import Q

    from accounts.models import User

    hasher = PBKDF2PasswordHasher()
    encoded = hasher.encode(LOAD_PASSWORD, hasher.salt())
    return User.objects.filter(
        Q(email__endswith="@bench.example") | Q(company__addon_subscriptions__isnull=False)
    ).update(password=encoded)


def _agent_schedules() -> None:
    from accounts.models import User
    from scheduling.services import availability

    for agent in User.objects.filter(agent_profile__isnull=False):
        availability.agent_schedule_get_or_create(agent=agent)


def build(*, rebuild: bool = False) -> None:
    """The database, reused when its fingerprint matches (unless `rebuild`)."""
    if not rebuild and _reuse_database():
        log(f"load: reusing database {LOAD_DB} ({_fingerprint()}); --rebuild makes a new one")
        return
    started = time.perf_counter()
    data.setup_database(LOAD_DB, redis_url=LOAD_REDIS_URL)
    people = data.seed_people_logged("load", PEOPLE)
    now = datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)
    step = time.perf_counter()
    data.generate_tickets(people, count=TICKETS, now=now, mix=MIX, sla_targets=False)
    log(f"load: generated {TICKETS} tickets in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    data.generate_sla_history(people, now=now)
    log(f"load: generated the SLA history in {time.perf_counter() - step:.1f} s")
    log(f"load: {_usable_passwords()} accounts can sign in")
    _agent_schedules()
    data.vacuum(["accounts_user", "scheduling_agentschedule"])

    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        statement = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(LOAD_DB), sql.Literal(_fingerprint())
        )
        cursor.execute(statement.as_string(cursor.connection))
    log(f"load: built {LOAD_DB} in {time.perf_counter() - started:.0f} s")


def accounts_file(path: Path) -> None:
    """The accounts the locust users sign in as, and a fresh API token for each API user."""
    from accounts.models import ApiToken, User
    from accounts.services import api_token_create

    vip_customers = list(
        User.objects.filter(company__addon_subscriptions__isnull=False)
        .order_by("pk")
        .values_list("email", flat=True)
    )
    agents = list(
        User.objects.filter(agent_profile__tier=1, email__endswith="@bench.example")
        .order_by("email")
        .values_list("email", flat=True)
    )
    managers = list(
        User.objects.filter(email__startswith="manager", email__endswith="@bench.example")
        .order_by("email")
        .values_list("email", flat=True)
    )
    api_users = User.objects.filter(email__in=vip_customers[:100] + agents[:100])
    ApiToken.objects.filter(user__in=api_users, name=TOKEN_NAME).delete()
    tokens = {
        user.email: api_token_create(user=user, name=TOKEN_NAME, lifetime_days=7)[1]
        for user in api_users
    }
    path.write_text(
        json.dumps(
            {
                "password": LOAD_PASSWORD,
                "customers": vip_customers,
                "agents": agents,
                "managers": managers,
                "tokens": tokens,
            }
        )
    )
    log(
        f"load: {len(vip_customers)} customers, {len(agents)} agents, {len(managers)} managers,"
        f" {len(tokens)} API tokens"
    )
