"""The read replica (README "Read replica"): only code that asks for it reads there.

Writes, migrations and every other read go to `default`. A view opts in with `@reads_replica`
(or `with read_replica(request):`); a user who wrote in the last
`DATABASE_REPLICA_AFTER_WRITE_SECONDS` reads the primary even there, so they see their own writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Request:
    """What the router learns about the current request: whether it wrote to the primary."""

    wrote: bool = False


# The alias reads go to inside `read_replica`; None elsewhere (the default database).
_reads_from: ContextVar[str | None] = ContextVar("reads_from", default=None)
# Set by the middleware for each request; a mutable object, so writes the router sees in the
# view's thread reach the middleware whatever context copies ASGI makes on the way.
_request: ContextVar[_Request | None] = ContextVar("replica_request", default=None)


class _Caller(Protocol):
    """A request: Django's, or DRF's wrapper of it (whose `user` is the API's caller)."""

    @property
    def method(self) -> str | None: ...


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _wrote_key(user_id: int) -> str:
    return f"replica:wrote:{user_id}"


def _wrote_recently(request: _Caller) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and cache.get(_wrote_key(user.pk)))


def replica_alias(request: _Caller) -> str:
    """The alias this request may read reports from: the replica, unless it is not configured,
    the request is not a read, or its user has just written (so they see what they wrote)."""
    if not replica_configured() or request.method not in SAFE_METHODS:
        return DEFAULT_DB_ALIAS
    return DEFAULT_DB_ALIAS if _wrote_recently(request) else REPLICA


@contextmanager
def read_replica(request: _Caller) -> Iterator[str]:
    """Route this block's reads to `replica_alias(request)`, which it yields."""
    alias = replica_alias(request)
    token = _reads_from.set(alias)
    try:
        yield alias
    finally:
        _reads_from.reset(token)


def current_read_alias() -> str:
    """Where reads go now; pin a query evaluated outside the block (a streamed file) to it."""
    return _reads_from.get() or DEFAULT_DB_ALIAS


def reads_replica(view: Callable[P, R]) -> Callable[P, R]:
    """A view whose reads may go to the replica (its first argument is the request)."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        request = args[0]
        assert isinstance(request, HttpRequest)
        with read_replica(request):
            return view(*args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Reads inside `read_replica` go where it says; everything else is the primary's."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return current_read_alias()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        if (current := _request.get()) is not None:
            current.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database: a row read on the replica is the primary's row

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class AfterWriteMiddleware:
    """Remember, for the user, that a request wrote: their next reads for a while skip the
    replica. Before the session middleware, so the session's own writes are seen too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        current = _Request()
        token = _request.set(current)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        user = getattr(request, "user", None)
        # An unsafe method counts even when nothing went through the router (raw SQL).
        wrote = current.wrote or request.method not in SAFE_METHODS
        if wrote and user is not None and user.is_authenticated:
            seconds = settings.DATABASE_REPLICA_AFTER_WRITE_SECONDS
            cache.set(_wrote_key(user.pk), True, timeout=seconds)
        return response
