"""Refreshing busy-time feeds from a real HTTP server on 127.0.0.1, and what they block."""

import contextlib
import datetime
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from scheduling import busy, slots
from scheduling.busy import feed_busy_spans
from scheduling.models import BusyFeed
from scheduling.selectors import agent_calendar
from scheduling.services import feeds
from scheduling.tasks import refresh_busy_feed, refresh_busy_feeds
from scheduling.tests.factories import BERLIN, NOW, berlin, call_type, schedule_for, vip_people

pytestmark = pytest.mark.django_db
UTC = datetime.UTC

GOOD_FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//VIP Support tests//Busy feed//EN
BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20261101T000000Z
SUMMARY:Team meeting (weekly\\, one week skipped\\, one extra on Thursday)
DTSTART;TZID=Europe/Berlin:20261201T100000
DTEND;TZID=Europe/Berlin:20261201T110000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Berlin:20261208T100000
RDATE;TZID=Europe/Berlin:20261210T140000
END:VEVENT
BEGIN:VEVENT
UID:all-day@test
DTSTAMP:20261101T000000Z
SUMMARY:Conference
DTSTART;VALUE=DATE:20261204
DTEND;VALUE=DATE:20261205
END:VEVENT
BEGIN:VEVENT
UID:new-york@test
DTSTAMP:20261101T000000Z
SUMMARY:Call with New York
DTSTART;TZID=America/New_York:20261203T090000
DTEND;TZID=America/New_York:20261203T100000
END:VEVENT
BEGIN:VEVENT
UID:cancelled@test
DTSTAMP:20261101T000000Z
SUMMARY:Cancelled meeting
STATUS:CANCELLED
DTSTART:20261202T090000Z
DTEND:20261202T100000Z
END:VEVENT
BEGIN:VEVENT
UID:free@test
DTSTAMP:20261101T000000Z
SUMMARY:Reminder shown as free
TRANSP:TRANSPARENT
DTSTART:20261202T130000Z
DTEND:20261202T140000Z
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")

OTHER_FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//VIP Support tests//Other//EN
BEGIN:VEVENT
UID:other@test
DTSTAMP:20261101T000000Z
DTSTART:20261207T080000Z
DTEND:20261207T090000Z
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


# ---------------------------------------------------------------------------- the HTTP server


@dataclass
class Route:
    status: int = 200
    body: str = GOOD_FEED
    content_type: str = "text/calendar; charset=utf-8"
    delay: float = 0.0
    location: str = ""
    send_length: bool = True
    length: str | None = None  # a Content-Length to send instead of the body's true length
    trickle: float = 0.0  # pause after each byte of the body (and of the headers, if told)
    trickle_headers: bool = False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, size limit) is what some tests are about."""


class FeedServer:
    """A real HTTP server on 127.0.0.1 (a free port) in a thread, answering from `routes`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path, Route(status=404, body="Not found"))
                if route.delay:
                    time.sleep(route.delay)
                body = route.body.encode()
                if route.trickle_headers:
                    head = f"HTTP/1.1 {route.status} OK\r\nContent-Length: {len(body)}\r\n\r\n"
                    self.trickle(head.encode() + body, route.trickle)
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.location:
                    self.send_header("Location", route.location)
                if route.length is not None:
                    self.send_header("Content-Length", route.length)
                elif route.send_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if route.trickle:
                    self.trickle(body, route.trickle)
                    return
                with contextlib.suppress(OSError):  # the client gave up (timeout, size limit)
                    self.wfile.write(body)

            def trickle(self, data: bytes, pause: float) -> None:
                with contextlib.suppress(OSError):  # until the client gives up
                    for byte in data:
                        self.wfile.write(bytes([byte]))
                        time.sleep(pause)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> "FeedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def serve(self, path: str, **route: Any) -> str:
        self.routes[path] = Route(**route)
        return self.url(path)


@pytest.fixture
def server(settings: Any) -> Iterator[FeedServer]:
    settings.BUSY_FEEDS_ALLOW_PRIVATE_HOSTS = True
    with FeedServer() as running:
        yield running


@pytest.fixture
def agent() -> Any:
    return vip_people().agent


def url_feed(agent: Any, url: str, name: str = "Work calendar") -> BusyFeed:
    feed = BusyFeed(schedule=schedule_for(agent), name=name, url=url)
    feed.full_clean()
    feed.save()
    return feed


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.ics"


# ---------------------------------------------------------------------------- a good feed


def test_a_good_feed_is_stored_and_its_busy_times_come_from_it(server, agent):
    feed = url_feed(agent, server.serve("/feed.ics"))
    BusyFeed.objects.filter(pk=feed.pk).update(last_error="An old problem")

    with time_machine.travel(NOW, tick=False):
        assert feeds.busy_feed_refresh(feed_id=feed.pk) is True

    feed.refresh_from_db()
    assert feed.last_good_ics == GOOD_FEED
    assert feed.fetched_at == NOW
    assert feed.last_error == ""
    assert server.requests == ["/feed.ics"]
    spans = feed_busy_spans(feed=feed, start=NOW, end=berlin(31, 0), zone=BERLIN)
    assert sorted(spans) == [
        (berlin(1, 10), berlin(1, 11)),  # weekly; 8 December is excluded (EXDATE)
        (berlin(3, 15), berlin(3, 16)),  # 09:00-10:00 in New York
        (berlin(4, 0), berlin(5, 0)),  # all day, in the agent's zone
        (berlin(10, 14), berlin(10, 15)),  # the extra date (RDATE)
        (berlin(15, 10), berlin(15, 11)),
        (berlin(22, 10), berlin(22, 11)),
    ]


def free_starts(agent: Any) -> set[datetime.datetime]:
    calendar = agent_calendar(agent=agent, start=NOW, end=NOW + datetime.timedelta(days=31))
    support = call_type("support")
    rules = slots.CallRules(
        duration=support.duration,
        buffer_before=support.buffer_before,
        buffer_after=support.buffer_after,
        minimum_notice=support.minimum_notice,
        horizon=support.horizon,
        step=support.step,
        max_per_day=calendar.max_calls_per_day,
    )
    free = slots.free_slots(
        availability=calendar.availability,
        rules=rules,
        bookings=calendar.booked,
        busy=calendar.busy,
        now=NOW,
    )
    return {slot.start for slot in free}


def test_free_slots_leave_out_the_feeds_busy_time(server, agent):
    feed = url_feed(agent, server.serve("/feed.ics"))
    before = free_starts(agent)
    assert {berlin(1, 10), berlin(3, 15), berlin(4, 9), berlin(10, 14)} <= before

    assert feeds.busy_feed_refresh(feed_id=feed.pk)
    after = free_starts(agent)

    # Tuesday 10:00-11:00 is busy: with 10-minute buffers 09:30 and 11:00 cannot be booked.
    assert berlin(1, 9) in after
    assert not {berlin(1, 9, 30), berlin(1, 10), berlin(1, 10, 30), berlin(1, 11)} & after
    assert berlin(1, 11, 30) in after
    assert berlin(8, 10) in after  # the excluded week
    assert not {berlin(10, 14), berlin(10, 14, 30)} & after  # the extra date
    assert not {berlin(3, 15), berlin(3, 15, 30)} & after  # New York's 09:00
    assert not [start for start in after if start.astimezone(BERLIN).date().day == 4]  # all day
    assert {berlin(2, 10), berlin(2, 14)} <= after  # cancelled and transparent events


# ---------------------------------------------------------------------------- failures


def first_good_copy(server: FeedServer, agent: Any) -> BusyFeed:
    feed = url_feed(agent, server.serve("/feed.ics"))
    with time_machine.travel(NOW, tick=False):
        assert feeds.busy_feed_refresh(feed_id=feed.pk)
    feed.refresh_from_db()
    return feed


def assert_failed_and_kept(feed: BusyFeed, error: str) -> None:
    with time_machine.travel(NOW + datetime.timedelta(minutes=15), tick=False):
        assert feeds.busy_feed_refresh(feed_id=feed.pk) is False
    feed.refresh_from_db()
    assert feed.last_good_ics == GOOD_FEED
    assert feed.fetched_at == NOW
    assert error in feed.last_error
    assert feed_busy_spans(feed=feed, start=NOW, end=berlin(2, 0), zone=BERLIN) == [
        (berlin(1, 10), berlin(1, 11))
    ]


@pytest.mark.parametrize(
    ("route", "error"),
    [
        (Route(status=500, body="Internal error"), "HTTP status 500"),
        (Route(status=404, body="Not found"), "HTTP status 404"),
        (
            Route(body="<html><body>Please log in</body></html>", content_type="text/html"),
            "did not return a calendar",
        ),
        (Route(body="BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"), "did not return a calendar"),
        (Route(body=""), "did not return a calendar"),
        (Route(body="BEGIN:VCALENDAR\x00\r\nEND:VCALENDAR\r\n"), "did not return a calendar"),
    ],
    ids=["500", "404", "html-page-200", "event-not-calendar", "empty", "binary"],
)
def test_a_bad_answer_keeps_the_last_good_copy(server, agent, caplog, route, error):
    feed = first_good_copy(server, agent)
    server.routes["/feed.ics"] = route

    assert_failed_and_kept(feed, error)
    assert "could not be refreshed" in caplog.text


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "streamed"])
def test_a_feed_over_the_size_limit_is_refused(server, agent, monkeypatch, send_length):
    feed = first_good_copy(server, agent)
    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 100_000)
    padding = "X-PADDING:" + "x" * 60 + "\r\n"
    big = GOOD_FEED.replace("END:VCALENDAR", padding * 2000 + "END:VCALENDAR")
    server.routes["/feed.ics"] = Route(body=big, send_length=send_length)

    assert_failed_and_kept(feed, "larger than 97.7\xa0KB")


@pytest.mark.parametrize(
    "length",
    ["²", "12abc", " 1²3 ", "-1", "9" * 5000],
    ids=["superscript-two", "digits-then-letters", "mixed", "negative", "too-many-digits"],
)
def test_a_malformed_content_length_is_read_as_no_length(server, agent, length):
    """ "²" is a digit to `str.isdigit` but not to `int`; 5000 digits are more than `int`
    reads. Either way the feed is read to its end (within the size limit), not crashed on."""
    feed = url_feed(agent, server.serve("/feed.ics", length=length))

    assert feeds.busy_feed_refresh(feed_id=feed.pk) is True

    feed.refresh_from_db()
    assert (feed.last_good_ics, feed.last_error) == (GOOD_FEED, "")


@pytest.mark.parametrize("length", ["²", "12abc"], ids=["superscript-two", "digits-then-letters"])
def test_a_malformed_content_length_does_not_lift_the_size_limit(
    server, agent, monkeypatch, length
):
    feed = first_good_copy(server, agent)
    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 100_000)
    padding = "X-PADDING:" + "x" * 60 + "\r\n"
    big = GOOD_FEED.replace("END:VCALENDAR", padding * 2000 + "END:VCALENDAR")
    server.routes["/feed.ics"] = Route(body=big, length=length)

    assert_failed_and_kept(feed, "larger than 97.7\xa0KB")


def test_a_server_slower_than_the_timeout_is_given_up_on(server, agent, monkeypatch):
    feed = first_good_copy(server, agent)
    monkeypatch.setattr(feeds, "FETCH_TIMEOUT_SECONDS", 0.3)
    server.routes["/feed.ics"] = Route(delay=2)

    started = time.monotonic()
    assert_failed_and_kept(feed, "did not answer within 0.3 seconds")
    assert time.monotonic() - started < 1.5


def test_a_refused_connection_keeps_the_last_good_copy(server, agent):
    feed = first_good_copy(server, agent)
    BusyFeed.objects.filter(pk=feed.pk).update(url=closed_port_url())

    assert_failed_and_kept(feed, "refused the connection")


def test_success_after_a_failure_clears_the_error(server, agent):
    feed = first_good_copy(server, agent)
    server.routes["/feed.ics"] = Route(status=503, body="Busy")
    assert_failed_and_kept(feed, "HTTP status 503")

    server.routes["/feed.ics"] = Route(body=OTHER_FEED)
    later = NOW + datetime.timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        assert feeds.busy_feed_refresh(feed_id=feed.pk)
    feed.refresh_from_db()
    assert (feed.last_good_ics, feed.fetched_at, feed.last_error) == (OTHER_FEED, later, "")


# ---------------------------------------------------------------------------- redirects, schemes


def test_a_few_redirects_are_followed(server, agent):
    server.serve("/feed.ics")
    server.serve("/old.ics", status=301, body="", location=server.url("/moved.ics"))
    server.serve("/moved.ics", status=302, body="", location=server.url("/feed.ics"))
    feed = url_feed(agent, server.url("/old.ics"))

    assert feeds.busy_feed_refresh(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.last_good_ics == GOOD_FEED
    assert server.requests == ["/old.ics", "/moved.ics", "/feed.ics"]


@pytest.mark.parametrize("target", ["loop", "chain", "file"])
def test_too_many_or_unusable_redirects_fail(server, agent, target):
    feed = first_good_copy(server, agent)
    if target == "loop":
        server.serve("/feed.ics", status=302, body="", location=server.url("/feed.ics"))
    elif target == "chain":
        for hop in range(6):
            server.serve(f"/hop{hop}", status=302, body="", location=server.url(f"/hop{hop + 1}"))
        server.serve("/feed.ics", status=302, body="", location=server.url("/hop0"))
    else:
        server.serve("/feed.ics", status=302, body="", location="file:///etc/passwd")

    assert_failed_and_kept(feed, "redirects too often")
    assert len(server.requests) <= 1 + 1 + feeds.MAX_REDIRECTS


def test_webcal_is_https_and_other_schemes_are_refused():
    assert feeds.fetch_url("webcal://calendar.example.com/a.ics?k=1") == (
        "https://calendar.example.com/a.ics?k=1"
    )
    assert feeds.fetch_url(" HTTP://example.com/a.ics ") == "http://example.com/a.ics"
    for url in ("file:///etc/passwd", "ftp://example.com/a.ics", "gopher://x", "https://"):
        with pytest.raises(feeds.FeedError, match="Only http, https and webcal"):
            feeds.fetch_url(url)


def test_a_stored_url_with_another_scheme_is_not_fetched(agent):
    feed = url_feed(agent, "https://calendar.example.com/a.ics")
    BusyFeed.objects.filter(pk=feed.pk).update(url="file:///etc/passwd")

    assert feeds.busy_feed_refresh(feed_id=feed.pk) is False
    feed.refresh_from_db()
    assert "Only http, https and webcal" in feed.last_error
    assert feed.last_good_ics == ""


# ---------------------------------------------------------------------------- private hosts


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "10.1.2.3",
        "169.254.169.254",
        # 127.0.0.1 through NAT64, 6to4 and as an IPv4-compatible address
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
        "[::7f00:1]",
    ],
)
def test_private_hosts_are_refused_unless_the_setting_allows_them(server, agent, settings, host):
    settings.BUSY_FEEDS_ALLOW_PRIVATE_HOSTS = False
    port = server.httpd.server_port
    feed = url_feed(agent, server.serve("/feed.ics").replace(f"127.0.0.1:{port}", f"{host}:{port}"))

    assert feeds.busy_feed_refresh(feed_id=feed.pk) is False
    feed.refresh_from_db()
    assert "private network" in feed.last_error
    assert feed.last_good_ics == ""
    assert server.requests == []  # refused before connecting

    if host == "127.0.0.1":
        settings.BUSY_FEEDS_ALLOW_PRIVATE_HOSTS = True
        assert feeds.busy_feed_refresh(feed_id=feed.pk) is True


def test_a_name_resolving_to_a_private_address_in_ipv6_clothing_is_refused(
    server, agent, settings, monkeypatch
):
    """Every address a name resolves to is judged, whatever IPv6 form DNS gives it."""
    settings.BUSY_FEEDS_ALLOW_PRIVATE_HOSTS = False
    port = server.httpd.server_port
    resolved = ["64:ff9b::a9fe:a9fe", "2002:a01:203::1", "::c0a8:101", "::ffff:127.0.0.1"]

    def resolve(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "calendar.example"
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
            for address in resolved
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    feed = url_feed(agent, f"http://calendar.example:{port}/feed.ics")

    assert feeds.busy_feed_refresh(feed_id=feed.pk) is False
    feed.refresh_from_db()
    assert "private network" in feed.last_error
    assert server.requests == []


# Teredo addresses: the server's IPv4 address in bits 32-63, the client's in the last 32 bits
# (inverted); Teredo's prefix itself is in 2001::/23, which is not globally reachable.
TEREDO_CLIENT_10_1_2_3 = "2001:0:808:808::f5fe:fdfc"
TEREDO_SERVER_10_1_2_3 = "2001:0:a01:203::f7f7:f7f7"
TEREDO_PUBLIC = "2001:0:808:808::f7f7:f7f7"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        # The report: 127.0.0.1 through NAT64, 6to4 and IPv4-compatible.
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::1", False),
        ("::7f00:1", False),
        # Private, link-local, loopback and unspecified IPv4, plain and in every IPv6 form.
        *[
            (form.format(ipv4=ipv4, hex=hex6to4), False)
            for ipv4, hex6to4 in [
                ("10.1.2.3", "a01:203"),
                ("192.168.1.1", "c0a8:101"),
                ("169.254.169.254", "a9fe:a9fe"),
                ("127.1.2.3", "7f01:203"),
                ("0.0.0.0", "0:0"),  # noqa: S104 (an address to refuse, nothing binds to it)
            ]
            for form in ("{ipv4}", "::ffff:{ipv4}", "::{ipv4}", "64:ff9b::{ipv4}", "2002:{hex}::1")
        ],
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("64:ff9b::6440:1", False),
        # NAT64 local-use prefix (RFC 8215): refused whatever it carries.
        ("64:ff9b:1::808:808", False),
        ("64:ff9b:1:808:8:800::", False),
        # Teredo: refused with a private server or client, and with public ones for its prefix.
        (TEREDO_CLIENT_10_1_2_3, False),
        (TEREDO_SERVER_10_1_2_3, False),
        (TEREDO_PUBLIC, False),
        # IPv6 of its own that is not public.
        ("::", False),
        ("::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("224.0.0.1", False),
        ("::ffff:0:7f00:1", False),  # IPv4-translated (RFC 2765): reserved space
        ("2001:db8::1", False),
        # Public hosts, plain or behind a translation prefix, stay allowed.
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("2002:0808:0808::1", True),
        ("64:ff9b::808:808", True),
        ("::ffff:8.8.8.8", True),
        ("::8.8.8.8", True),
        ("2a00:1450:4001:80b::200e", True),
    ],
)
def test_which_addresses_a_feed_may_be_fetched_from(address, allowed):
    assert feeds.address_allowed(address) is allowed


def test_the_teredo_rows_carry_the_addresses_they_claim():
    server = ipaddress.IPv4Address("8.8.8.8")
    private = ipaddress.IPv4Address("10.1.2.3")
    assert ipaddress.IPv6Address(TEREDO_CLIENT_10_1_2_3).teredo == (server, private)
    assert ipaddress.IPv6Address(TEREDO_SERVER_10_1_2_3).teredo == (private, server)
    assert ipaddress.IPv6Address(TEREDO_PUBLIC).teredo == (server, server)


# ---------------------------------------------------------------------------- all feeds


def test_the_task_refreshes_every_url_feed_and_counts_the_good_ones(server, agent):
    # The failing ones come first (oldest fetch first, then by id): they must not stop the rest.
    url_feed(agent, server.serve("/broken.ics", status=500, body="Oops"), "Broken")
    url_feed(agent, closed_port_url(), "Gone")
    url_feed(agent, server.serve("/feed.ics"), "Good")
    url_feed(vip_people("Globex").agent, server.serve("/other.ics", body=OTHER_FEED), "Other")
    uploaded = BusyFeed(schedule=schedule_for(agent), name="File", uploaded_ics=OTHER_FEED)
    uploaded.full_clean()
    uploaded.save()

    assert refresh_busy_feeds.apply().get() == 2

    by_name = {feed.name: feed for feed in BusyFeed.objects.all()}
    assert by_name["Good"].last_good_ics == GOOD_FEED
    assert by_name["Other"].last_good_ics == OTHER_FEED
    assert "HTTP status 500" in by_name["Broken"].last_error
    assert "refused" in by_name["Gone"].last_error
    assert (by_name["File"].last_good_ics, by_name["File"].last_error) == ("", "")
    assert sorted(server.requests) == ["/broken.ics", "/feed.ics", "/other.ics"]


def test_the_task_for_one_feed_reads_that_feed_alone(server, agent):
    feed = url_feed(agent, server.serve("/feed.ics"), "Just added")
    url_feed(agent, server.serve("/other.ics", body=OTHER_FEED), "Other")

    assert refresh_busy_feed.apply(args=[feed.pk]).get() is True

    feed.refresh_from_db()
    assert feed.last_good_ics == GOOD_FEED
    assert server.requests == ["/feed.ics"]


def test_one_crashing_feed_does_not_stop_the_others(server, agent, monkeypatch):
    first = url_feed(agent, server.serve("/first.ics"), "First")
    second = url_feed(agent, server.serve("/feed.ics"), "Second")
    real_refresh = feeds.busy_feed_refresh

    def crash_on_first(*, feed_id: int) -> bool:
        if feed_id == first.pk:
            raise RuntimeError("a bug")
        return real_refresh(feed_id=feed_id)

    monkeypatch.setattr(feeds, "busy_feed_refresh", crash_on_first)

    assert feeds.busy_feeds_refresh() == 1
    second.refresh_from_db()
    assert second.last_good_ics == GOOD_FEED


def test_a_feed_deleted_meanwhile_is_no_problem(agent):
    assert feeds.busy_feed_refresh(feed_id=987654) is False


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers-and-body"])
def test_a_server_trickling_bytes_is_given_up_on_at_the_deadline(
    server, agent, monkeypatch, headers_too
):
    """Each byte comes well within the socket timeout; the whole answer would take minutes."""
    feed = first_good_copy(server, agent)
    monkeypatch.setattr(feeds, "FETCH_TIMEOUT_SECONDS", 1.0)
    server.routes["/feed.ics"] = Route(trickle=0.3, trickle_headers=headers_too)

    started = time.monotonic()
    assert_failed_and_kept(feed, "did not answer within 1 seconds")
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------- costly calendars


def calendar_of(*events: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//VIP Support tests//Costly//EN"]
    for number, event in enumerate(events):
        lines += ["BEGIN:VEVENT", f"UID:{number}@test", "DTSTAMP:20261101T000000Z", event]
        lines += ["END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


EVERY_MINUTE = "DTSTART:20261101T000000Z\r\nDTEND:20261101T000030Z\r\nRRULE:FREQ=MINUTELY"
MONDAY_MEETING = "DTSTART:20261207T080000Z\r\nDTEND:20261207T090000Z"


def stored_feed(agent: Any, ics: str) -> BusyFeed:
    """A feed whose last good copy was stored as it is (by an earlier version, say)."""
    feed = url_feed(agent, "https://calendar.example/agent.ics")
    BusyFeed.objects.filter(pk=feed.pk).update(last_good_ics=ics)
    feed.refresh_from_db()
    return feed


def test_a_feed_with_events_repeating_every_minute_is_refused(server, agent):
    feed = first_good_copy(server, agent)
    server.routes["/feed.ics"] = Route(body=calendar_of(EVERY_MINUTE))

    assert_failed_and_kept(feed, "Events that repeat every minute or second are not supported.")


def test_a_stored_copy_repeating_every_minute_stays_cheap_to_read(client_for):
    people = vip_people()
    stored_feed(people.agent, calendar_of(EVERY_MINUTE, MONDAY_MEETING))

    with time_machine.travel(NOW, tick=False):
        calendar = agent_calendar(
            agent=people.agent, start=NOW, end=NOW + datetime.timedelta(days=30)
        )
        page = client_for(people.customer).get(reverse("scheduling:slots", args=["support"]))

    assert calendar.busy == (slots.Busy(berlin(7, 9), berlin(7, 10)),)
    assert page.status_code == 200


def test_only_so_many_events_of_a_feed_count(agent, monkeypatch, caplog):
    monkeypatch.setattr(busy, "MAX_FEED_OCCURRENCES", 100)
    minutes = ",".join(str(minute) for minute in range(60))
    every_minute_too = "DTSTART:20261101T000000Z\r\nDURATION:PT30S\r\n"
    feed = stored_feed(
        agent, calendar_of(f"{every_minute_too}RRULE:FREQ=HOURLY;BYMINUTE={minutes}")
    )

    # From a UTC midnight: the cached window (and so the count) starts there.
    midnight = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    spans = feed_busy_spans(feed=feed, start=midnight, end=berlin(31, 0), zone=BERLIN)

    assert len(spans) == 100
    assert "more than 100 events in the window" in caplog.text


def test_a_rule_with_too_long_a_way_to_the_window_is_left_out(agent, caplog):
    """dateutil would walk every day from the year 1 on (seconds) to reach December 2026."""
    since_the_year_1 = "DTSTART;VALUE=DATE:00010101\r\nRRULE:FREQ=DAILY"
    feed = stored_feed(agent, calendar_of(since_the_year_1, MONDAY_MEETING))

    spans = feed_busy_spans(feed=feed, start=NOW, end=berlin(31, 0), zone=BERLIN)

    assert spans == [(berlin(7, 9), berlin(7, 10))]
    assert "1 recurring events are too costly to expand" in caplog.text


@pytest.mark.parametrize(
    ("zone", "event"),
    [
        # Floating, so read in New York: 23:30 on the last day of 9999 is in the year 10000 in UTC.
        (ZoneInfo("America/New_York"), "DTSTART:20261201T090000\r\nDTEND:99991231T233000"),
        (BERLIN, "DTSTART;TZID=Asia/Tokyo:00010101T000000\r\nDTEND:20261202T000000Z"),
    ],
    ids=["ends-after-9999", "starts-in-the-year-1"],
)
def test_an_event_beyond_the_calendars_range_is_left_out_alone(agent, zone, event):
    feed = stored_feed(agent, calendar_of(event, MONDAY_MEETING))

    spans = feed_busy_spans(feed=feed, start=NOW, end=berlin(31, 0), zone=zone)

    assert spans == [(berlin(7, 9), berlin(7, 10))]
