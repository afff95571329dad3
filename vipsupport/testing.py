"""Fixtures every app's tests share; loaded as a pytest plugin by pytest.ini."""

import datetime
import importlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from hypothesis import settings as hypothesis_settings

# CI replays the same examples every run, so a red build is always reproducible; locally the
# property tests keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

if TYPE_CHECKING:
    from accounts.models import User

# `TEST_CLOCK=<ISO 8601 instant>` runs the whole session as if it were then (the clock ticks on
# from there), so a date-dependent test shows up today rather than on the day it breaks.
TEST_CLOCK_VARIABLE = "TEST_CLOCK"
_session_travel: time_machine.travel | None = None


def session_clock_instant(value: str) -> datetime.datetime:
    """The aware instant `TEST_CLOCK` names; it must carry a zone, so it is never ambiguous."""
    try:
        instant = datetime.datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise pytest.UsageError(
            f"{TEST_CLOCK_VARIABLE}={value!r} is not an ISO 8601 instant"
        ) from error
    if instant.tzinfo is None:
        raise pytest.UsageError(
            f"{TEST_CLOCK_VARIABLE}={value!r} needs a zone, e.g. 2031-10-26T00:30:00Z"
        )
    return instant


def pytest_configure(config: pytest.Config) -> None:
    """Start the session-wide travel before any test (or fixture) reads the clock."""
    global _session_travel
    value = os.environ.get(TEST_CLOCK_VARIABLE, "")
    if not value:
        return
    _session_travel = time_machine.travel(session_clock_instant(value), tick=True)
    _session_travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _session_travel
    if _session_travel is not None:
        _session_travel.stop()
        _session_travel = None


def pytest_report_header(config: pytest.Config) -> str | None:
    value = os.environ.get(TEST_CLOCK_VARIABLE, "")
    return f"{TEST_CLOCK_VARIABLE}: the session runs as if it were {value}" if value else None


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


# Data migrations that seed rows the app needs (plans, roles, calendars, policies, call types).
SEED_MIGRATIONS = [
    "accounts.migrations.0002_seed_plans_and_roles",
    "desk.migrations.0003_seed_the_support_desk",
    "sla.migrations.0007_policies_on_the_desk_calendar",
    "scheduling.migrations.0003_seed_call_types",
]


def _seed() -> None:
    from django.apps import apps

    from vipsupport.beat import beat_schedule_sync

    for module in SEED_MIGRATIONS:
        importlib.import_module(module).seed(apps, None)
    # The Celery Beat schedule is not a migration's: migrate writes it after the last one.
    beat_schedule_sync()


@pytest.fixture(scope="session", autouse=True)
def _seed_reused_database(django_db_setup: None, django_db_blocker: Any) -> None:
    """A database kept by --reuse-db may have been left flushed by a transactional test."""
    from django.db import connection

    # pytest-django sets up no test database when no collected test needs one.
    if connection.settings_dict["NAME"].startswith("test_"):
        with django_db_blocker.unblock():
            _seed()


@pytest.fixture(autouse=True)
def _reseed_after_flush(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush every table; put the migrations' seed rows back first.

    Serialized rollback cannot do this reliably: Playwright's event loop gives the browser tests
    another connection object than the one the serialized data was stored on.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    _seed()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache: Redis outlives test runs, so give it its own keys."""
    from django.core.cache import caches

    cache = caches["default"]
    previous = cache.key_prefix
    cache.key_prefix = f"test-{uuid.uuid4().hex}"
    yield
    cache.key_prefix = previous


@pytest.fixture(autouse=True)
def _default_language_and_zone() -> Iterator[None]:
    """Requests activate the user's language and zone on the thread; do not let one test's leak."""
    from django.conf import settings
    from django.utils import timezone, translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


@pytest.fixture
def client_for(client: Client) -> Callable[["User"], Client]:
    """Log `user` in on the test client and return the client."""

    def login(user: "User") -> Client:
        client.force_login(user)
        return client

    return login


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous, so Django's async guard must be told.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _browser_context(chromium: Any) -> Any:
    """A new browser context (its own cookies); under `TEST_CLOCK` its pages' clock is the
    session's, so live countdowns agree with the server."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    if _session_travel is not None:
        context.clock.install(time=datetime.datetime.now(datetime.UTC))
    return context


@pytest.fixture
def _cookies_without_expiry_under_test_clock(settings: Any) -> None:
    """Chromium drops cookies its own (real) clock finds expired; under `TEST_CLOCK` the session
    and CSRF cookies are given no expiry, so a session clock in the past keeps users logged in.
    The server still expires sessions by its own clock."""
    if _session_travel is not None:
        settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
        settings.CSRF_COOKIE_AGE = None


@pytest.fixture
def page(
    chromium: Any, request: pytest.FixtureRequest, _cookies_without_expiry_under_test_clock: None
) -> Iterator[Any]:
    """A fresh browser page; a screenshot of its last state is kept in test-artifacts/."""
    context = _browser_context(chromium)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def new_page(chromium: Any, _cookies_without_expiry_under_test_clock: None) -> Iterator[Any]:
    """Pages in browser contexts of their own (separate cookies), closed after the test."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = _browser_context(chromium)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def run_on_sqlite(script: str, tmp_path: Path) -> Any:
    """Run a Python script on a fresh SQLite database with the development settings (what
    `make run` uses) in a process of its own; the JSON its last line prints."""
    import json
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vipsupport.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
    }
    finished = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        cwd=ARTIFACTS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


def screenshot(page: Any, name: str) -> None:
    """Keep a full-page PNG in test-artifacts/ for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, base_url: str, email: str, password: str = "demo") -> None:  # noqa: S107
    """Log in through the real form and wait until the portal has moved on from it."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
