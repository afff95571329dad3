"""The chat's browser tests need websockets, which Django's WSGI `live_server` has not: they run
the real ASGI application (`vipsupport.asgi`) on uvicorn, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def asgi_server(transactional_db: None, settings: Any) -> Iterator[str]:
    """The base URL of the ASGI application on uvicorn; in the test's process, it sees the
    committed rows (hence `transactional_db`), the test's settings and its time travels."""
    import uvicorn

    from vipsupport.asgi import application

    # A travel to a past date would have Chromium (on its real clock) drop cookies that
    # expire two weeks after it: the session and CSRF cookies last as long as the browser.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    port = _free_port()
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    # Polled by count, not by clock: the tests travel in time.
    for _ in range(400):
        if server.started or not thread.is_alive():
            break
        time.sleep(0.025)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
