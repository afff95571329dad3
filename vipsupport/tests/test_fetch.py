"""The guarded download against a real HTTP server on 127.0.0.1: hosts, credentials, limits.

The busy-time feed tests (scheduling/tests/test_feeds.py) cover the rest through the feeds:
deadlines, trickling servers, redirect limits, malformed lengths, private addresses in every form.
"""

import base64
import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import translation

from vipsupport.fetch import FetchError, fetch, host_allowed, post

AUDIO = bytes(range(256)) * 40  # 10 240 bytes that are not text
USER, PASSWORD = "AC123", "sécret:token"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@dataclass
class Route:
    status: int = 200
    body: bytes = AUDIO
    content_type: str | None = "audio/mpeg"
    location: str = ""
    send_length: bool = True
    delay: float = 0.0


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (size limit, timeout) is what some tests are about."""


class Server:
    """A real HTTP server on 127.0.0.1 (a free port) in a thread; it records what it was sent."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (Host, path, Authorization)
        self.posted: list[tuple[str, bytes, dict[str, str]]] = []  # (path, body, headers)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.posted.append((self.path, body, dict(self.headers.items())))
                self.do_GET()

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                server.requests.append((host, self.path, self.headers.get("Authorization")))
                route = server.routes.get(self.path, Route(status=404, body=b"Not found"))
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                if route.content_type is not None:
                    self.send_header("Content-Type", route.content_type)
                if route.location:
                    self.send_header("Location", route.location)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.httpd.server_port}{path}"

    def serve(self, path: str, **route: Any) -> str:
        self.routes[path] = Route(**route)
        return self.url(path)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.thread.start()
    try:
        with translation.override("en"):
            yield running
    finally:
        running.httpd.shutdown()
        running.httpd.server_close()


def get(url: str, **options: Any) -> Any:
    options = {"max_bytes": 100_000, "timeout": 5.0, "allow_private": True, **options}
    return fetch(url, **options)


# ---------------------------------------------------------------------------- what comes back


def test_the_body_its_type_and_where_it_came_from(server):
    server.serve("/recording", status=302, body=b"", location="/recording.mp3")
    server.serve("/recording.mp3", content_type="Audio/MPEG; charset=binary; x=1")

    fetched = get(server.url("/recording"), accept="audio/*")

    assert fetched.body == AUDIO
    assert fetched.content_type == "audio/mpeg"
    assert fetched.charset == "binary"
    assert fetched.final_url == server.url("/recording.mp3")


def test_no_content_type_is_an_empty_one(server):
    fetched = get(server.serve("/raw", content_type=None, body=b"abc"))

    assert (fetched.body, fetched.content_type, fetched.charset) == (b"abc", "", None)


def test_an_http_error_says_its_status(server):
    with pytest.raises(FetchError, match="HTTP status 404") as caught:
        get(server.url("/missing"))

    assert (caught.value.code, caught.value.status) == ("status", 404)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/a.mp3", "file:///etc/passwd", "http:///a.mp3", "webcal://x/a.ics"]
)
def test_only_http_and_https_are_fetched(url):
    with translation.override("en"), pytest.raises(FetchError, match="Only http and https"):
        get(url)


# ---------------------------------------------------------------------------- size and time


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "streamed"])
def test_a_body_over_the_limit_is_refused(server, send_length):
    url = server.serve("/big", send_length=send_length)

    with pytest.raises(FetchError, match=re.escape("larger than 10.0\xa0KB")) as caught:
        get(url, max_bytes=10 * 1024 - 1)
    assert caught.value.code == "too_big"

    assert get(url, max_bytes=10 * 1024).body == AUDIO  # exactly the limit is fine


def test_a_slow_server_is_given_up_on_at_the_deadline(server):
    started = time.monotonic()

    with pytest.raises(FetchError, match=re.escape("did not answer within 0.3 seconds")) as caught:
        get(server.serve("/slow", delay=2), timeout=0.3)

    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.5


# ---------------------------------------------------------------------------- allowed hosts


def test_a_host_not_allowed_is_not_asked(server):
    with pytest.raises(FetchError, match="not one we fetch from") as caught:
        get(server.serve("/a.mp3"), allowed_hosts=["localhost", "*.example.com"])

    assert caught.value.code == "host"
    assert server.requests == []


def test_a_redirect_to_a_host_not_allowed_is_not_followed(server):
    server.serve("/a", status=302, body=b"", location=server.url("/b.mp3", host="localhost"))
    server.serve("/b.mp3")

    with pytest.raises(FetchError, match="not one we fetch from") as caught:
        get(server.url("/a"), allowed_hosts=["127.0.0.1"], auth=(USER, PASSWORD))

    assert caught.value.code == "host"
    assert server.requests == [("127.0.0.1", "/a", BASIC)]


def test_an_allowed_host_is_fetched_in_any_case(server):
    fetched = get(server.serve("/a.mp3"), allowed_hosts=["LocalHost", "127.0.0.1."])

    assert fetched.body == AUDIO


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("api.twilio.com", True),
        ("API.Twilio.COM", True),
        ("api.twilio.com.", True),
        ("twilio.com", False),
        ("evilapi.twilio.com", False),
        ("api.twilio.com.evil.example", False),
        ("media.twiliocdn.com", True),
        ("a.b.TwilioCDN.com", True),
        ("twiliocdn.com", False),  # "*." is for names under it, not the name itself
        ("eviltwiliocdn.com", False),
        ("twiliocdn.com.evil.example", False),
        ("::1", True),  # as urlsplit gives it, without brackets
        ("bücher.example", True),
        ("xn--bcher-kva.example", True),
        ("", False),
    ],
)
def test_which_hosts_match_the_allowed_ones(host, allowed):
    hosts = ["api.twilio.com", "*.twiliocdn.com", "[::1]", "xn--bcher-kva.example"]
    assert host_allowed(host, hosts) is allowed


def test_no_allowed_hosts_is_no_host():
    assert host_allowed("api.twilio.com", []) is False


# ---------------------------------------------------------------------------- credentials


def test_credentials_go_to_the_allowed_host_and_stay_on_its_origin(server):
    server.serve("/Recordings/RE1", status=301, body=b"", location="/Recordings/RE1.mp3")
    server.serve(
        "/Recordings/RE1.mp3",
        status=302,
        body=b"",
        location=server.url("/signed.mp3?sig=x", host="localhost"),
    )
    server.serve("/signed.mp3?sig=x")

    fetched = get(
        server.url("/Recordings/RE1"),
        allowed_hosts=["127.0.0.1", "localhost"],
        auth=(USER, PASSWORD),
    )

    assert fetched.body == AUDIO
    assert fetched.final_url == server.url("/signed.mp3?sig=x", host="localhost")
    assert server.requests == [
        ("127.0.0.1", "/Recordings/RE1", BASIC),
        ("127.0.0.1", "/Recordings/RE1.mp3", BASIC),  # the same origin: still sent
        ("localhost", "/signed.mp3?sig=x", None),  # another host, allowed: not sent
    ]


def test_credentials_are_not_sent_to_another_port_of_the_same_host(server):
    other = Server()
    other.thread.start()
    try:
        other.serve("/b.mp3")
        server.serve("/a", status=302, body=b"", location=other.url("/b.mp3"))

        get(server.url("/a"), allowed_hosts=["127.0.0.1"], auth=(USER, PASSWORD))

        assert server.requests == [("127.0.0.1", "/a", BASIC)]
        assert other.requests == [("127.0.0.1", "/b.mp3", None)]
    finally:
        other.httpd.shutdown()
        other.httpd.server_close()


def test_credentials_need_allowed_hosts():
    with pytest.raises(ValueError, match="allowed_hosts"):
        fetch("https://api.twilio.com/a.mp3", max_bytes=1, timeout=1, auth=(USER, PASSWORD))


# ---------------------------------------------------------------------------- private addresses


def test_a_private_address_is_refused_unless_allowed_even_when_its_host_is(server):
    url = server.serve("/a.mp3")

    with pytest.raises(FetchError, match="private network") as caught:
        get(url, allowed_hosts=["127.0.0.1"], allow_private=False)
    assert caught.value.code == "private"
    assert server.requests == []  # refused before connecting

    assert get(url, allowed_hosts=["127.0.0.1"], allow_private=True).body == AUDIO


# ---------------------------------------------------------------------------- post


def send(url: str, **options: Any) -> Any:
    options = {
        "data": '{"type":"ticket.created","x":"ü"}'.encode(),
        "headers": {"Content-Type": "application/json", "X-VIP-Event": "ticket.created"},
        "timeout": 5.0,
        "allow_private": True,
        **options,
    }
    return post(url, **options)


def test_a_post_sends_its_body_and_headers(server):
    answered = send(server.serve("/hooks", status=202, body=b"accepted", content_type="text/plain"))

    assert (answered.status, answered.body) == (202, b"accepted")
    [(path, body, headers)] = server.posted
    assert path == "/hooks"
    assert body == '{"type":"ticket.created","x":"ü"}'.encode()
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Vip-Event"] == "ticket.created"  # header names are case-insensitive
    assert headers["User-Agent"] == "VIP-Support/1.0"


def test_a_post_answered_with_an_error_says_its_status(server):
    with pytest.raises(FetchError, match="HTTP status 500") as caught:
        send(server.serve("/hooks", status=500, body=b"oops"))

    assert (caught.value.code, caught.value.status) == ("status", 500)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_post_never_follows_a_redirect(server, status):
    server.serve("/hooks", status=status, body=b"", location="/elsewhere")
    server.serve("/elsewhere")

    with pytest.raises(FetchError, match="redirects") as caught:
        send(server.url("/hooks"))

    assert (caught.value.code, caught.value.status) == ("redirect", status)
    assert [path for _host, path, _auth in server.requests] == ["/hooks"]


def test_a_long_answer_to_a_post_is_cut_not_refused(server):
    answered = send(server.serve("/hooks", body=b"x" * 5000, send_length=False), max_bytes=100)

    assert answered.body == b"x" * 100


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "[::ffff:127.0.0.1]"])
def test_a_post_to_a_private_address_is_refused_before_connecting(server, host):
    with pytest.raises(FetchError, match="private network") as caught:
        send(server.serve("/hooks").replace("127.0.0.1", host), allow_private=False)

    assert caught.value.code == "private"
    assert server.posted == []


def test_a_slow_receiver_is_given_up_on_at_the_deadline(server):
    with pytest.raises(FetchError, match=re.escape("within 0.3 seconds")) as caught:
        send(server.serve("/hooks", delay=2), timeout=0.3)

    assert caught.value.code == "timeout"
