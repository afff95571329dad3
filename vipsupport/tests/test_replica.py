"""The read replica against a real streaming replica (README "Read replica").

A primary and its streaming replica of our own (the machine's PostgreSQL 15 binaries, temporary
folders, free ports), both logging every statement, and uvicorn serving the portal on them with
`DATABASE_REPLICA_URL` set. Each request's statements are read back from the two servers' logs.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from django.conf import settings

from vipsupport.local_servers import (
    PG_BIN,
    PostgresServer,
    as_postgres,
    free_port,
    owned_folder,
    process_stop,
    run,
)

ROOT = Path(__file__).resolve().parents[2]
UVICORN = Path(sys.executable).parent / "uvicorn"
PROBE = "replica-test-probe"  # our own connections' name, left out of the statements we read
AFTER_WRITE_SECONDS = 2
# A logged statement: simple protocol, or extended (the CSV's server-side cursor).
LOGGED_STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")

pytestmark = pytest.mark.skipif(
    not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15's binaries are not installed"
)


@dataclass
class Server(PostgresServer):
    """One PostgreSQL server of ours and its statement log."""

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname="vipsupport",
            application_name=PROBE,
            autocommit=True,
        )

    def value(self, sql: str) -> Any:
        with self.connect() as conn:
            row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]

    def statements(self, since: int) -> list[str]:
        """The statements the portal sent since byte `since` of the log."""
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        return [
            match[1]
            for line in text.splitlines()
            if (match := LOGGED_STATEMENT.search(line)) and not line.startswith(f"{PROBE}|")
        ]


@dataclass
class Cluster:
    primary: Server
    replica: Server


# Every statement, named by its connection, so a test sees where each query went.
PRIMARY_SETTINGS = (
    "wal_level = replica\nmax_wal_senders = 4\nlog_statement = 'all'\nlog_line_prefix = '%a|'\n"
)


def _portal_environment(cluster: Cluster, **extra: str) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "vipsupport.settings.test",
        "DATABASE_URL": cluster.primary.url(),
        "REDIS_URL": settings.REDIS_URL,
        **extra,
    }


def _wait_until_caught_up(cluster: Cluster) -> None:
    target = cluster.primary.value("SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    while True:
        try:
            caught_up = cluster.replica.value(
                f"SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
            )
        except psycopg.OperationalError:
            caught_up = False  # still starting
        if caught_up:
            return
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A migrated, seeded primary and a streaming replica made from it by `pg_basebackup -R`."""
    folder = owned_folder("vipsupport-replica-")
    primary = Server(folder / "primary", free_port(), folder / "primary.log")
    replica = Server(folder / "replica", free_port(), folder / "replica.log")
    try:
        primary.init(sockets=folder, settings=PRIMARY_SETTINGS)
        primary.start()
        primary.createdb()
        cluster = Cluster(primary, replica)
        environment = _portal_environment(cluster)
        for command in (["migrate", "--no-input"], ["seed_demo"]):
            run([sys.executable, "manage.py", *command], cwd=ROOT, env=environment)
        run(as_postgres(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1",
                          "-p", str(primary.port), "-U", "postgres", "-D", str(replica.folder),
                          "-R", "-X", "stream", "-c", "fast", "--no-sync"))  # fmt: skip
        with (replica.folder / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {replica.port}\n")
        replica.start()
        _wait_until_caught_up(cluster)
        yield cluster
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Portal:
    """uvicorn serving the portal with the replica configured; keeps one visitor's cookies."""

    port: int
    log: Path
    cluster: Cluster
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=urlencode(body) if body else None, headers=headers)
            response = conn.getresponse()
            jar: SimpleCookie = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return response.status, response.read()
        finally:
            conn.close()

    def statements(self, method: str, path: str, **kwargs: Any) -> tuple[list[str], list[str]]:
        """Make a request; the statements it sent to the primary and to the replica."""
        primary, replica = self.cluster.primary, self.cluster.replica
        since = primary.log.stat().st_size, replica.log.stat().st_size
        status, _ = self.request(method, path, **kwargs)
        assert status in (200, 302), f"{method} {path}: {status}\n{self.log.read_text()[-3000:]}"
        return primary.statements(since[0]), replica.statements(since[1])

    def log_in(self, email: str) -> list[str]:
        """Log in through the form; the statements the login sent to the replica."""
        status, page = self.request("GET", "/accounts/login/")
        assert status == 200
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match is not None
        form = {"username": email, "password": "demo", "csrfmiddlewaretoken": match[1].decode()}
        _, replica = self.statements("POST", "/accounts/login/", body=form)
        assert "sessionid" in self.cookies
        return replica


@pytest.fixture(scope="session")
def portal(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    port = free_port()
    log = tmp_path_factory.mktemp("replica-portal") / "server.log"
    environment = _portal_environment(
        cluster,
        DATABASE_REPLICA_URL=cluster.replica.url(),
        DATABASE_REPLICA_AFTER_WRITE_SECONDS=str(AFTER_WRITE_SECONDS),
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(UVICORN), "vipsupport.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    portal = Portal(port, log, cluster)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"uvicorn exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"uvicorn did not start:\n{log.read_text()}"
            try:
                portal.request("GET", "/health/")
                break
            except OSError:
                time.sleep(0.2)
        yield portal
    finally:
        process_stop(process)


WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# What the primary reads on a report page: the session and user, for the role check.
WHO_IS_ASKING = {"django_session", "accounts_user", "auth_group"}


def _reads_of(statements: list[str], table: str) -> list[str]:
    return [sql for sql in statements if not WRITES.match(sql) and f'"{table}"' in sql]


def test_the_reports_read_the_replica_and_the_rest_the_primary(cluster, portal):
    assert cluster.replica.value("SELECT pg_is_in_recovery()") is True
    assert cluster.primary.value("SELECT pg_is_in_recovery()") is False
    assert cluster.primary.value("SELECT count(*) FROM pg_stat_replication") == 1  # streaming
    company = cluster.primary.value("SELECT min(id) FROM accounts_company")

    replica_at_login = portal.log_in("manager@support.example")

    # The login wrote (session, last login) to the primary and read nothing from the replica.
    assert replica_at_login == []
    # Right after a write, the writer's report reads the primary, which has what they wrote.
    primary, replica = portal.statements("GET", "/reports/sla/")
    assert _reads_of(primary, "sla_slatarget"), primary
    assert replica == []

    time.sleep(AFTER_WRITE_SECONDS + 0.5)
    reports = [
        "/reports/sla/",
        "/reports/sla/breaches.csv",
        f"/sla/statement/?company={company}",
        "/api/v1/reports/sla/",
        f"/api/v1/statement/?company={company}",
    ]
    for path in reports:
        primary, replica = portal.statements("GET", path)
        # The figures come from the replica; the primary only answers who is asking.
        assert _reads_of(replica, "sla_slatarget"), (path, replica)
        assert not _reads_of(primary, "sla_slatarget"), (path, primary)
        assert {
            table for sql in primary for table in re.findall(r'FROM "(\w+)"', sql)
        } <= WHO_IS_ASKING, (path, primary)

    # Pages that do not ask for the replica read the primary only.
    for path in ("/reports/", "/profile/"):
        primary, replica = portal.statements("GET", path)
        assert primary, path
        assert replica == [], (path, replica)

    # Nothing ever tried to write on the replica (a hot standby would have refused it).
    assert not [sql for sql in cluster.replica.statements(0) if WRITES.match(sql)]
    assert [sql for sql in cluster.primary.statements(0) if WRITES.match(sql)]


def test_the_full_health_page_checks_the_replica(cluster, portal):
    _, body = portal.request("GET", "/health/full/")
    checks = json.loads(body)["checks"]
    assert checks["replica"]["status"] == "ok", checks
    assert "replica" not in json.loads(portal.request("GET", "/health/")[1])["checks"]

    cluster.replica.stop()
    try:
        status, body = portal.request("GET", "/health/full/")
        assert status == 503  # also for Beat: no worker runs here
        assert json.loads(body)["checks"]["replica"]["status"] == "error"
    finally:
        cluster.replica.start()
