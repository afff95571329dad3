"""What every log line says about its context: the request id and the ticket id (README "Logs").

A request (`vipsupport.request_id`), a websocket connection or a Celery task
(`vipsupport.celery_logs`) sets the request id for its whole run; code that loads a ticket names
it with `log_ticket`. `ContextFilter`, on every handler, copies both onto each record.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import string
import uuid
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

# Context variables, not thread-locals: under ASGI many requests share a thread, and asgiref
# carries them into (and back out of) the threads that run sync views.
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("log_request_id", default="")
_ticket_id: contextvars.ContextVar[str] = contextvars.ContextVar("log_ticket_id", default="")

# A proxy's id is kept only if it is a short token that cannot break a log line or a header.
REQUEST_ID_MAX_LENGTH = 200
_REQUEST_ID_CHARACTERS = frozenset(string.printable) - frozenset(string.whitespace)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str:
    """The given id if it is 1 to 200 printable ASCII characters without spaces, else ""."""
    if not value or len(value) > REQUEST_ID_MAX_LENGTH:
        return ""
    return value if set(value) <= _REQUEST_ID_CHARACTERS else ""


def current_request_id() -> str:
    return _request_id.get()


def current_ticket_id() -> str:
    return _ticket_id.get()


@contextlib.contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Run a block as one request (or task) with this id and no ticket yet; restore after."""
    request_token = _request_id.set(request_id)
    ticket_token = _ticket_id.set("")
    try:
        yield
    finally:
        _ticket_id.reset(ticket_token)
        _request_id.reset(request_token)


def enter_request_context(request_id: str) -> Callable[[], None]:
    """`request_context` for callers with separate start and end hooks; returns the end."""
    request_token = _request_id.set(request_id)
    ticket_token = _ticket_id.set("")

    def leave() -> None:
        _ticket_id.reset(ticket_token)
        _request_id.reset(request_token)

    return leave


class log_ticket:  # a class so it can be called alone or used with `with`
    """Name the ticket the current request or task is about, on every log line from now on.

    Called alone, it lasts until the request or task ends (a view that loaded the ticket); as
    `with log_ticket(pk):` it lasts for the block and then restores the ticket before it (a
    service run in a loop over many tickets).
    """

    def __init__(self, ticket_id: int | str | None) -> None:
        self._token = _ticket_id.set("" if ticket_id is None else str(ticket_id))

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _ticket_id.reset(self._token)


P = ParamSpec("P")
R = TypeVar("R")


def logs_ticket(function: Callable[P, R]) -> Callable[P, R]:
    """Log a service's lines under the ticket it is given as `ticket=` (keyword-only)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ticket_id: Any = getattr(kwargs.get("ticket"), "pk", None)
        if ticket_id is None:
            return function(*args, **kwargs)
        with log_ticket(ticket_id):
            return function(*args, **kwargs)

    return wrapper


class ContextFilter(logging.Filter):
    """Adds `request_id` and `ticket_id` ("" when none) to every record; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.ticket_id = _ticket_id.get()
        return True
