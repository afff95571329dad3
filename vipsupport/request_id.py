"""The request id: the proxy's `X-Request-ID` when it is sane, else a new one (README "Logs").

`RequestIdMiddleware` (second in `MIDDLEWARE`, after the health endpoints) holds it for the
request's log lines, returns it in the response's `X-Request-ID` and ends with one access line
that carries both ids. `RequestIdASGIMiddleware` does the same for a websocket's whole life.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from vipsupport.logs import new_request_id, request_context, sane_request_id

HEADER = "X-Request-ID"

# Production's access log (uvicorn's own is off there: it is written outside the request and
# cannot know its ids); `make run` keeps Daphne's instead, so each request shows once.
access_logger = logging.getLogger("vipsupport.requests")


class RequestIdMiddleware:
    """Runs each request under its id and hands the id back to the caller."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = sane_request_id(request.headers.get(HEADER)) or new_request_id()
        started = time.perf_counter()
        with request_context(request_id):
            response = self.get_response(request)
            response[HEADER] = request_id
            access_logger.info(
                "%s %s %s %d ms",
                request.method,
                request.path,
                response.status_code,
                round((time.perf_counter() - started) * 1000),
            )
        return response


class RequestIdASGIMiddleware:
    """Runs one websocket connection (every message on it) under the id of its handshake."""

    def __init__(self, app: Callable[..., Awaitable[Any]]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        given = dict(scope.get("headers") or []).get(HEADER.lower().encode(), b"")
        request_id = sane_request_id(given.decode("latin-1")) or new_request_id()
        with request_context(request_id):
            await self.app(scope, receive, send)
