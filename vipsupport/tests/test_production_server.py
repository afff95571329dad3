"""The production settings under a real uvicorn server, as the README runs them.

One server for the module (`vipsupport.asgi`, production settings, the test database, a small
connection pool, its own STATIC_ROOT after collectstatic): many concurrent requests never take
more PostgreSQL connections than the pool allows, the app serves its hashed, compressed CSS, and
it logs JSON lines with the request and ticket ids.
"""

import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from accounts.models import User
from accounts.tests.factories import CustomerFactory, vip_company
from tickets.tests.factories import make_ticket
from vipsupport.local_servers import process_stop

ROOT = Path(__file__).resolve().parents[2]
UVICORN = Path(sys.executable).parent / "uvicorn"
POOL_MAX_SIZE = 4
PASSWORD = "a-production-password-9"


@dataclass
class Server:
    host: str
    port: int
    application_name: str
    static_root: Path
    log: Path
    database: dict[str, Any]

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request on a fresh connection; redirects are returned, not followed."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _production_environment(**extra: str) -> dict[str, str]:
    """The README's production variables (and nothing from the test run's own DJANGO_*)."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "vipsupport.settings.production",
        "DJANGO_SECRET_KEY": f"production-secret-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_EMAIL_URL": "consolemail://",
        "DJANGO_PORTAL_URL": "http://127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": settings.REDIS_URL,
        **extra,
    }


def _database_url(database: dict[str, Any]) -> str:
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


def _connect(database: dict[str, Any], application_name: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        application_name=application_name,
        autocommit=True,
    )


def _connections_of(database: dict[str, Any], application_name: str) -> int:
    with _connect(database, f"{application_name}-count") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        ).fetchone()
    assert row is not None
    return int(row[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's collectstatic step, into a STATIC_ROOT of the test's own."""
    root = tmp_path_factory.mktemp("staticfiles")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=_production_environment(
            DJANGO_STATIC_ROOT=str(root),
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def production_server(
    django_db_setup: None, static_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """uvicorn serving `vipsupport.asgi` with production settings on the test database."""
    database = dict(connection.settings_dict)
    # Only tests marked django_db get a test database; the server must never see another one.
    assert database["NAME"].startswith("test_"), "mark the test @pytest.mark.django_db"
    application_name = f"vipsupport-test-{uuid.uuid4().hex[:12]}"
    port = _free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    environment = _production_environment(
        DATABASE_URL=_database_url(database),
        DATABASE_APPLICATION_NAME=application_name,
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
        DATABASE_POOL_TIMEOUT="20",
        DJANGO_STATIC_ROOT=str(static_root),
    )
    server = Server("127.0.0.1", port, application_name, static_root, log, database)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(UVICORN),
                "vipsupport.asgi:application",
                *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"uvicorn exited:\n{server.log_tail()}"
            assert time.monotonic() < deadline, f"uvicorn did not start:\n{server.log_tail()}"
            try:
                status, _, _ = server.request("GET", "/accounts/login/")
            except OSError:
                time.sleep(0.2)
                continue
            assert status == 200, server.log_tail()
            break
        yield server
    finally:
        process_stop(process)
    # The server's connections end with it: none is left behind for the next test.
    deadline = time.monotonic() + 10
    while (left := _connections_of(database, application_name)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == 0, f"{left} connections of {application_name} outlived the server"


def _cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def _log_in(server: Server, email: str) -> str:
    """Log in through the real form (production sets Secure cookies, so they are kept by hand)."""
    status, headers, body = server.request("GET", "/accounts/login/")
    assert status == 200
    csrf_cookie = _cookies(headers)["csrftoken"]
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert match is not None
    status, headers, body = server.request(
        "POST",
        "/accounts/login/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
        },
        body=urlencode(
            {
                "username": email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": match.group(1).decode(),
            }
        ),
    )
    assert status == 302, server.log_tail()
    return f"sessionid={_cookies(headers)['sessionid']}"


class _ConnectionWatch:
    """Counts the server's connections in pg_stat_activity from its own thread, keeping the peak."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        name = self.server.application_name
        with _connect(self.server.database, f"{name}-watch") as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name]
                ).fetchone()
                assert row is not None
                self.peak = max(self.peak, int(row[0]))
                self._stop.wait(0.01)

    def __enter__(self) -> "_ConnectionWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_share_a_bounded_connection_pool(production_server):
    customer = CustomerFactory(company=vip_company())
    # Production checks passwords with Django's default hashers, not the tests' fast MD5.
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(pk=customer.pk).update(password=hasher.encode(PASSWORD, hasher.salt()))
    session = _log_in(production_server, customer.email)
    pages = ["/", "/tickets/", "/profile/", "/accounts/login/"]

    def fetch(number: int) -> tuple[str, int]:
        page = pages[number % len(pages)]
        status, _, _ = production_server.request("GET", page, headers={"Cookie": session})
        return page, status

    with _ConnectionWatch(production_server) as watch, ThreadPoolExecutor(50) as pool:
        results = list(pool.map(fetch, range(100)))

    failures = [(page, status) for page, status in results if status != 200]
    assert not failures, f"{failures}\n{production_server.log_tail()}"
    assert 1 <= watch.peak <= POOL_MAX_SIZE, f"peak of {watch.peak} connections"


@pytest.mark.django_db  # for the server's database, which the login page's session uses
def test_the_app_serves_hashed_compressed_static_files(production_server):
    manifest = json.loads((production_server.static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert hashed != "css/portal.css"
    url = f"/static/{hashed}"

    status, headers, body = production_server.request("GET", url)

    assert status == 200, production_server.log_tail()
    assert headers["Content-Type"].startswith("text/css")
    assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert body == (production_server.static_root / hashed).read_bytes()

    status, headers, compressed = production_server.request(
        "GET", url, headers={"Accept-Encoding": "gzip"}
    )

    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(compressed) == body

    status, _, login_page = production_server.request("GET", "/accounts/login/")

    assert status == 200
    assert f'href="{url}"'.encode() in login_page


@pytest.mark.django_db
def test_a_load_balancer_probe_by_address_gets_the_health_page(production_server):
    def checks(body: bytes) -> dict[str, str]:
        return {name: check["status"] for name, check in json.loads(body)["checks"].items()}

    # The probe's Host is the server's address, which DJANGO_ALLOWED_HOSTS does not list.
    status, headers, body = production_server.request(
        "GET", "/health/", headers={"Host": "10.0.0.7:8000"}
    )

    assert status == 200, production_server.log_tail()
    assert headers["Content-Type"] == "application/json"
    assert checks(body) == {"database": "ok", "cache": "ok"}

    status, _, body = production_server.request("GET", "/health/full/")

    # Beat runs no scan here, so its check may fail; the rest run against the real services.
    statuses = checks(body)
    assert statuses | {"beat": "-"} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "beat": "-",
        "outbox": "ok",
    }, production_server.log_tail()
    assert status == (200 if statuses["beat"] == "ok" else 503)


@pytest.mark.django_db(transaction=True)
def test_the_server_logs_json_lines_with_the_request_and_ticket_ids(production_server):
    customer = CustomerFactory(company=vip_company())
    ticket = make_ticket(requester=customer)
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(pk=customer.pk).update(password=hasher.encode(PASSWORD, hasher.salt()))
    session = _log_in(production_server, customer.email)
    request_id = f"lb-{uuid.uuid4().hex}"

    status, headers, _ = production_server.request(
        "GET", f"/tickets/{ticket.pk}/", headers={"Cookie": session, "X-Request-ID": request_id}
    )

    assert status == 200, production_server.log_tail()
    assert headers["X-Request-ID"] == request_id
    # stderr is line-buffered: the request's lines are in the file once its answer is here.
    lines = production_server.log.read_text().splitlines()
    ours = [json.loads(line) for line in lines if request_id in line]
    assert [(entry["logger"], entry["ticket_id"]) for entry in ours] == [
        ("vipsupport.requests", str(ticket.pk))
    ], production_server.log_tail()
    (entry,) = ours
    assert entry["message"].startswith(f"GET /tickets/{ticket.pk}/ 200 ")
    assert entry["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    # Once the application is loaded, uvicorn's own lines are JSON too.
    started = next(i for i, line in enumerate(lines) if "Started server process" in line)
    assert all(json.loads(line) for line in lines[started:] if line.strip()), lines[started:]
