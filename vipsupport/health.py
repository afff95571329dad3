"""The health endpoints (django-health-check's checks, answered in JSON; README "Health").

`/health/` is for the load balancer: the database and the cache, which every page needs, so a
web server is taken out only when it cannot serve. `/health/full/` is for the on-call person and
monitoring: also the Celery broker, the SLA breach scan's last run (which proves Beat, the broker
and a worker all work) and the outbox's backlog. Each answers 200 when every check passes (a
warning passes), else 503, never a 500, and writes nothing to the database.

`HealthEndpointMiddleware` answers them first in `MIDDLEWARE`: before the HTTPS redirect and the
allowed-hosts check (a load balancer probes plain HTTP by address) and before sessions and sign-in
(a session cookie must not make the database a dependency of the answer).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import inspect
import logging
import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import HealthCheckException, ServiceUnavailable, ServiceWarning
from redis.asyncio import Redis as AsyncRedis

from outbox.selectors import outbox_backlog
from sla.selectors import scan_last_finished_at
from vipsupport.db_router import REPLICA, replica_configured

logger = logging.getLogger(__name__)

LOAD_BALANCER_PATH = "/health/"
FULL_PATH = "/health/full/"
# Failed outbox rows this recent are reported as a warning.
FAILED_WINDOW = datetime.timedelta(hours=1)
# Outbox counts stop here, so a huge backlog costs no more to report than a small one.
COUNT_CAP = 10_000
# The broker must answer this fast (seconds); the load balancer's probe has its own timeout.
BROKER_TIMEOUT = 2.0

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclasses.dataclass
class BeatScan(HealthCheck):
    """The SLA breach scan (Beat sends it every 30 s, a worker runs it) finished lately."""

    max_age: datetime.timedelta
    detail: str = dataclasses.field(default="OK", init=False, repr=False)

    def run(self) -> None:
        finished_at = scan_last_finished_at()
        limit = round(self.max_age.total_seconds())
        if finished_at is None:
            raise ServiceUnavailable(
                "the SLA breach scan has never finished: are Celery Beat and a worker running?"
            )
        age = round((timezone.now() - finished_at).total_seconds())
        if age > limit:
            raise ServiceUnavailable(
                f"the SLA breach scan last finished {age} s ago (limit {limit} s): "
                "are Celery Beat and a worker running?"
            )
        self.detail = f"the SLA breach scan last finished {max(age, 0)} s ago"


@dataclasses.dataclass
class OutboxBacklog(HealthCheck):
    """Few e-mails and webhook deliveries wait past their moment; recent failures warn."""

    overdue_after: datetime.timedelta
    max_overdue: int
    detail: str = dataclasses.field(default="OK", init=False, repr=False)

    def run(self) -> None:
        now = timezone.now()
        cap = max(COUNT_CAP, self.max_overdue + 1)
        backlog = outbox_backlog(
            overdue_before=now - self.overdue_after, failed_since=now - FAILED_WINDOW, cap=cap
        )

        def shown(count: int) -> str:
            return f"{count}+" if count >= cap else str(count)

        minutes = round(self.overdue_after.total_seconds() / 60)
        overdue = (
            f"{shown(backlog.emails_overdue)} e-mails and {shown(backlog.webhooks_overdue)} "
            f"webhook deliveries pending over {minutes} min after falling due"
        )
        failed = (
            f"{shown(backlog.emails_failed)} e-mails and {shown(backlog.webhooks_failed)} "
            "webhook deliveries failed in the last hour"
        )
        if max(backlog.emails_overdue, backlog.webhooks_overdue) > self.max_overdue:
            raise ServiceUnavailable(
                f"{overdue} (limit {self.max_overdue} each): is the sender running? {failed}"
            )
        if backlog.emails_failed or backlog.webhooks_failed:
            raise ServiceWarning(f"{failed} (Outbox in the admin); {overdue}")
        self.detail = f"{overdue}; none failed in the last hour"


@dataclasses.dataclass
class FilesystemBroker(HealthCheck):
    """Kombu's filesystem transport (`make run`): its folders exist and can be written."""

    folders: tuple[str, ...]

    def run(self) -> None:
        for folder in self.folders:
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ServiceUnavailable(
                    "a folder of the filesystem broker is missing or read-only"
                )


@dataclasses.dataclass
class UncheckedBroker(HealthCheck):
    """A broker this page has no check for: said, not hidden."""

    scheme: str

    def run(self) -> None:
        raise ServiceWarning(f"the {self.scheme} broker is not checked")


def broker_check() -> HealthCheck:
    """django-health-check's Redis check for a Redis broker; the folder check for `make run`'s."""
    url: str = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    if scheme in {"redis", "rediss"}:
        # A fresh client per probe, closed by the check; its repr shows host, port and db only.
        return Redis(
            client_factory=functools.partial(
                AsyncRedis.from_url,
                url,
                socket_connect_timeout=BROKER_TIMEOUT,
                socket_timeout=BROKER_TIMEOUT,
            )
        )
    if scheme == "filesystem":
        options: dict[str, str] = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        return FilesystemBroker(
            folders=tuple(sorted({value for key, value in options.items() if "folder" in key}))
        )
    return UncheckedBroker(scheme=scheme or "unnamed")


def load_balancer_checks() -> dict[str, HealthCheck]:
    """What a web server needs to serve a page: the database and the cache."""
    return {"database": Database(), "cache": Cache()}


def full_checks() -> dict[str, HealthCheck]:
    """Everything the on-call person wants to know, the load balancer's checks first."""
    # The read replica serves the reports only: its loss is for the on-call person, not a
    # reason to take web servers out.
    replica = {"replica": Database(alias=REPLICA)} if replica_configured() else {}
    return {
        **load_balancer_checks(),
        **replica,
        "broker": broker_check(),
        "beat": BeatScan(max_age=datetime.timedelta(seconds=settings.HEALTH_BEAT_MAX_AGE_SECONDS)),
        "outbox": OutboxBacklog(
            overdue_after=datetime.timedelta(seconds=settings.HEALTH_OUTBOX_OVERDUE_SECONDS),
            max_overdue=settings.HEALTH_OUTBOX_MAX_OVERDUE,
        ),
    }


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str
    message: str
    seconds: float


def check_outcome(*, name: str, check: HealthCheck) -> Outcome:
    """Run one check in this thread and say how it went; an unexpected exception is an error.

    In this thread, not django-health-check's executor: a check's queries then use the request's
    own database connection (its pool returns it at the request's end) rather than a connection
    each executor thread would keep open.
    """
    started = time.perf_counter()
    try:
        if inspect.iscoroutinefunction(check.run):
            async_to_sync(check.run)()
        else:
            check.run()
    except ServiceWarning as warning:
        status, message = WARNING, warning.message
        logger.warning("Health check %s: %s", name, message)
    except HealthCheckException as failure:
        status, message = ERROR, failure.message
        logger.warning("Health check %s failed: %s", name, message)
    except Exception:
        # Whatever it says may name a host or a password: the log has it, the page does not.
        status, message = ERROR, "unexpected error (see the server log)"
        logger.exception("Health check %s raised", name)
    else:
        status, message = OK, getattr(check, "detail", "OK")
    return Outcome(status=status, message=message, seconds=time.perf_counter() - started)


def health_response(*, checks: Callable[[], dict[str, HealthCheck]]) -> HttpResponse:
    """The JSON answer: each check's status and message; 200 unless a check is in error."""
    try:
        outcomes = {name: check_outcome(name=name, check=check) for name, check in checks().items()}
    except Exception:
        logger.exception("The health checks could not be set up")
        body: dict[str, object] = {"status": ERROR, "message": "the checks could not be set up"}
        return _never_cached(JsonResponse(body, status=503))
    statuses = {outcome.status for outcome in outcomes.values()}
    overall = ERROR if ERROR in statuses else WARNING if WARNING in statuses else OK
    body = {
        "status": overall,
        "checks": {
            name: {
                "status": outcome.status,
                "message": outcome.message,
                "seconds": round(outcome.seconds, 4),
            }
            for name, outcome in outcomes.items()
        },
    }
    return _never_cached(JsonResponse(body, status=503 if overall == ERROR else 200))


def _never_cached(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["X-Content-Type-Options"] = "nosniff"
    return response


ENDPOINTS: dict[str, Callable[[], dict[str, HealthCheck]]] = {
    LOAD_BALANCER_PATH: load_balancer_checks,
    FULL_PATH: full_checks,
}


class HealthEndpointMiddleware:
    """Answers the health paths itself; every other request goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        checks = ENDPOINTS.get(request.path_info)
        if checks is None:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return health_response(checks=checks)
