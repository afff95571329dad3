"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 (a free port) in a thread
that checks every delivery with the README's recipe, answers as scripted and records it all."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_recipe() -> Callable[[str, Any, bytes], bool]:
    """The `verify(secret, headers, body)` of the README's receiver recipe, run as written there:
    the tests check deliveries exactly as a reader of the README would."""
    text = README.read_text()
    section = text[text.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "the README's Webhooks section has no Python recipe"
    namespace: dict[str, Any] = {"__name__": "readme_recipe"}
    exec(compile(code.group(1), "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    verify: Callable[[str, Any, bytes], bool] = namespace["verify"]
    return verify


@dataclass
class Delivery:
    """One POST as the receiver saw it."""

    path: str
    headers: Message  # as received; names are case-insensitive, as in HTTP
    body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0
    location: str = ""


@dataclass
class Receiver:
    secret: str = ""
    answers: list[Answer] = field(default_factory=list)  # in order; then 200s
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def verified(self) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.verified]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that gave up (the timeout tests) is what those tests are about."""


@contextlib.contextmanager
def running_receiver(secret: str = "") -> Iterator[Receiver]:
    receiver = Receiver(secret=secret)
    verify = readme_recipe()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                receiver.deliveries.append(
                    Delivery(
                        path=self.path,
                        headers=self.headers,
                        body=body,
                        verified=verify(receiver.secret, self.headers, body),
                    )
                )
                answer = receiver.answers.pop(0) if receiver.answers else Answer()
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            if answer.location:
                self.send_header("Location", answer.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            with contextlib.suppress(OSError):  # the sender gave up
                self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_port
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
