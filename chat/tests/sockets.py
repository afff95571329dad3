"""Websocket clients for the chat's tests: the real ASGI application (session cookie, Origin
check, URL routing) on the Redis channel layer the test settings name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.models import User

ORIGIN = b"http://testserver"


def session_headers(user: User | None, *, origin: bytes = ORIGIN) -> list[tuple[bytes, bytes]]:
    """The headers a browser logged in as `user` sends when it opens a socket from our page."""
    headers = [(b"origin", origin)]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return headers


def socket(
    path: str, user: User | None, *, origin: bytes = ORIGIN, headers: list[Any] | None = None
) -> WebsocketCommunicator:
    from vipsupport.asgi import application

    return WebsocketCommunicator(
        application, path, headers=headers or session_headers(user, origin=origin)
    )


async def receive_until(
    communicator: WebsocketCommunicator, kind: str, *, timeout: float = 3
) -> dict[str, Any]:
    """The next frame of type `kind`, skipping others (status, typing, read receipts…)."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame.get("type") == kind:
            return frame


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario in a thread of its own: a browser test's Playwright leaves an event
    loop marked running in the main thread, where `async_to_sync` refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(async_to_sync(scenario)).result()
