"""Refreshing agents' external busy-time feeds (iCalendar URLs) into their last good copy.

Every feed is fetched on its own (`busy_feed_refresh`; Celery Beat refreshes all of them, and a
task reads a feed an agent has just added), so one slow or broken feed never stops the others. A
fetch that fails in any way (timeout, HTTP error, too big, not a calendar, host refused) keeps the
last good copy and records why in `last_error`; busy times keep coming from the copy that worked.

Server-side request forgery: agents type the URLs, and the server fetches them. Unless the
setting `BUSY_FEEDS_ALLOW_PRIVATE_HOSTS` is true (tests serve feeds from 127.0.0.1), the
connection is refused when the host resolves to anything but a public address (loopback,
private, link-local, shared, reserved, multicast). The check runs on the addresses the socket
actually connects to, for the first request and every redirect, so DNS tricks do not get past it.
IPv6 addresses that carry an IPv4 address for translation or tunnelling (IPv4-mapped and
-compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address they lead to
(`address_allowed`). Environment proxies are not used for the same reason.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import logging
import socket
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scheduling.busy import validate_calendar_text
from scheduling.models import BusyFeed
from vipsupport.ids import parse_int

logger = logging.getLogger(__name__)

# Read at call time, so tests can lower them with monkeypatch.
FETCH_TIMEOUT_SECONDS = 10.0
MAX_FEED_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
_CHUNK_BYTES = 64 * 1024
_USER_AGENT = "VIP-Support-busy-feeds/1.0"


class FeedError(Exception):
    """A fetch that did not give a usable calendar; the message is shown to the agent."""


class _HostRefused(OSError):
    """The feed's host resolves only to addresses the server must not connect to."""


class _RedirectRefused(urllib.error.URLError):
    """A redirect to something other than an http(s) address."""


# ---------------------------------------------------------------------------- refresh


def busy_feeds_refresh() -> int:
    """Refresh every URL feed, one at a time (each stamped when its own fetch began); the
    number refreshed successfully."""
    feed_ids = list(
        BusyFeed.objects.exclude(url="").order_by("fetched_at", "pk").values_list("pk", flat=True)
    )
    refreshed = 0
    for feed_id in feed_ids:
        try:
            refreshed += busy_feed_refresh(feed_id=feed_id)
        except Exception:  # a bug with one feed must not stop the others
            logger.exception("Busy-time feed %s: refresh crashed", feed_id)
    return refreshed


def busy_feed_refresh(*, feed_id: int, now: datetime.datetime | None = None) -> bool:
    """Fetch one feed; on success store it as the last good copy, otherwise record the error.

    False when the fetch failed or the feed is gone or has no URL. No transaction is held
    during the fetch; the conditional updates leave a feed deleted meanwhile alone, and do not
    store a copy of an address that was changed meanwhile. `fetched_at` is when the fetch began.
    """
    now = now or timezone.now()
    feed = BusyFeed.objects.filter(pk=feed_id).select_related("schedule__agent").first()
    if feed is None or not feed.url:
        return False
    # The error is stored as text, so write it in the language of the agent who reads it.
    with translation.override(feed.schedule.agent.preferred_language):
        try:
            text = fetch_calendar(feed.url)
        except FeedError as error:
            message = str(error)
            logger.warning("Busy-time feed %s could not be refreshed: %s", feed.pk, message)
            BusyFeed.objects.filter(pk=feed.pk, url=feed.url).update(last_error=message)
            return False
    updated = BusyFeed.objects.filter(pk=feed.pk, url=feed.url).update(
        last_good_ics=text, fetched_at=now, last_error=""
    )
    return updated == 1


# ---------------------------------------------------------------------------- fetching


def fetch_url(url: str) -> str:
    """The address to fetch: `webcal://` is HTTPS; anything but HTTP(S) is refused."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
    if scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(_("Only http, https and webcal addresses can be fetched."))
    return urlunsplit((scheme, *parts[1:]))


def fetch_calendar(url: str) -> str:
    """The feed's text, checked to be a calendar; FeedError with a short reason otherwise."""
    body, charset = _download(fetch_url(url))
    try:
        text = body.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError) as error:
        raise FeedError(_("The feed is not readable text (expected UTF-8).")) from error
    text = text.removeprefix("\ufeff")
    try:
        validate_calendar_text(text)
    except ValidationError as error:
        if error.code != "not_calendar":  # a calendar, but one that is not supported
            raise FeedError(" ".join(error.messages)) from error
        raise FeedError(
            _("The address did not return a calendar (perhaps an error or login page).")
        ) from error
    return text


def _download(url: str) -> tuple[bytes, str | None]:
    """The body and its declared charset, all within `FETCH_TIMEOUT_SECONDS` from the start."""
    timeout = FETCH_TIMEOUT_SECONDS
    with _Deadline(timeout) as deadline:
        try:
            body, charset = _read(url, timeout=timeout, deadline=deadline)
        except FeedError as error:
            if deadline.passed:  # whatever broke, it broke because the time was up
                raise _timed_out(timeout) from error
            raise
        # A stream without a length that was cut off at the deadline looks complete.
        if deadline.passed:
            raise _timed_out(timeout)
    return body, charset


def _read(url: str, *, timeout: float, deadline: _Deadline) -> tuple[bytes, str | None]:
    limit = MAX_FEED_BYTES
    request = urllib.request.Request(  # noqa: S310 (the opener only speaks http and https)
        url, headers={"User-Agent": _USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    )
    try:
        with _opener(deadline).open(request, timeout=timeout) as response:
            # Only ASCII digits are a length ("²", "12abc", "-1" are not): without one, the body
            # is read up to the limit, like one sent without a length.
            declared = parse_int(response.headers.get("Content-Length", "").strip(), minimum=0)
            if declared is not None and declared > limit:
                raise _too_big(limit)
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(_CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise _too_big(limit)
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get_content_charset()
    except urllib.error.HTTPError as error:
        error.close()
        if 300 <= error.code < 400:  # urllib gives up on too many or unusable redirects
            raise _redirect_error() from error
        raise FeedError(
            _("The server answered with HTTP status %(status)s.") % {"status": error.code}
        ) from error
    except _RedirectRefused as error:
        raise _redirect_error() from error
    except urllib.error.URLError as error:
        raise _connection_error(error.reason) from error
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        raise _connection_error(error) from error


def _connection_error(reason: object) -> FeedError:
    if isinstance(reason, _HostRefused):
        return FeedError(
            _("The address points into a private network, so it is not fetched for safety.")
        )
    if isinstance(reason, TimeoutError):
        return _timed_out(FETCH_TIMEOUT_SECONDS)
    if isinstance(reason, socket.gaierror):
        return FeedError(_("The server's name could not be found."))
    if isinstance(reason, ConnectionRefusedError):
        return FeedError(_("The server refused the connection."))
    return FeedError(_("The feed could not be fetched (%(reason)s).") % {"reason": reason})


def _redirect_error() -> FeedError:
    return FeedError(_("The address redirects too often, or to something that is not a web page."))


def _too_big(limit: int) -> FeedError:
    return FeedError(_("The feed is larger than %(size)s.") % {"size": filesizeformat(limit)})


def _timed_out(seconds: float) -> FeedError:
    return FeedError(
        _("The server did not answer within %(seconds)s seconds.") % {"seconds": f"{seconds:g}"}
    )


# ---------------------------------------------------------------------------- guarded opener


class _Deadline:
    """The end of one fetch (redirects included), enforced on its sockets.

    A socket timeout bounds each read, not the fetch: a server sending a byte now and then
    never lets one read time out. So when the time is up a timer shuts down every socket the
    fetch connected, and whatever read is waiting on one ends at once.
    """

    def __init__(self, seconds: float) -> None:
        self.passed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            passed = self.passed
        if passed:
            _shut_down(sock)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, for TLS sockets too: it acts on the descriptor, where
    # SSLSocket.shutdown would first take the TLS state away from the thread reading with it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """HTTP and HTTPS only (no file:, ftp:, data:), no proxies, few redirects, guarded sockets."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        _GuardedHTTPHandler(deadline),
        _GuardedHTTPSHandler(deadline),
        _LimitedRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


# RFC 6052: the NAT64 well-known prefix (the IPv4 address is the last 32 bits) and the
# local-use prefix of RFC 8215, whose embedding depends on a prefix length chosen by the network.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# RFC 4291 §2.5.5.1: IPv4-compatible addresses, `::a.b.c.d` (`::` and `::1` excepted).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def address_allowed(address: str) -> bool:
    """Whether a feed may be fetched from this IP address (a scope `%zone` is ignored): a
    public unicast address, and for an IPv6 address that leads to IPv4 addresses (mapped,
    compatible, NAT64, 6to4, Teredo) every one of those public as well.

    An IPv4 address inside IPv6 (`[64:ff9b::7f00:1]`, `[2002:7f00:1::1]`, `[::7f00:1]`)
    reaches that IPv4 host wherever the network translates or tunnels it, so it is judged as
    that address: 6to4 and NAT64 addresses of public hosts stay allowed whatever Python thinks
    of their prefixes. A NAT64 local-use address is refused outright: where its IPv4 address
    sits depends on a prefix length the network chose.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _public(ip)
    if ip in _NAT64_LOCAL_USE:
        return False
    if ip.ipv4_mapped is not None:
        return _public(ip.ipv4_mapped)
    if ip in _NAT64_WELL_KNOWN or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return _public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        return _public(ip.sixtofour)
    if ip.teredo is not None:
        server, client = ip.teredo
        # Both are reached over IPv4 (the client at its NAT's address). The prefix itself lies
        # in 2001::/23, which is not globally reachable, so today this refuses every Teredo
        # address; the IPv4 check stays should Python's table ever say otherwise.
        return _public(server) and _public(client) and _public(ip)
    return _public(ip)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally reachable unicast: not private, loopback, link-local, shared, reserved,
    unspecified or multicast."""
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _guarded_create_connection(
    address: tuple[str, int], timeout: Any = None, source_address: Any = None, **kwargs: Any
) -> socket.socket:
    """`socket.create_connection`, refusing private addresses unless the setting allows them."""
    if getattr(settings, "BUSY_FEEDS_ALLOW_PRIVATE_HOSTS", False):
        return socket.create_connection(address, timeout, source_address)
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    public = [info for info in infos if address_allowed(str(info[4][0]))]
    if not public:
        raise _HostRefused(f"{host} resolves only to non-public addresses")
    last_error: OSError | None = None
    for family, kind, protocol, _name, sockaddr in public:
        sock = socket.socket(family, kind, protocol)
        try:
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        return sock
    assert last_error is not None
    raise last_error


class _GuardedHTTPConnection(http.client.HTTPConnection):
    """Connects only to allowed addresses; the fetch's deadline watches the socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Passed as a keyword through `do_open`, whose signature knows nothing of it.
        self._deadline: _Deadline = kwargs.pop("deadline")
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_create_connection

    def connect(self) -> None:
        super().connect()  # for HTTPS this includes the TLS handshake
        self._deadline.watch(self.sock)


class _GuardedHTTPSConnection(_GuardedHTTPConnection, http.client.HTTPSConnection):
    pass


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req, deadline=self._deadline)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _GuardedHTTPSConnection,
            req,
            context=self._context,  # type: ignore[attr-defined]
            deadline=self._deadline,
        )


class _LimitedRedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS
    max_repeats = 1

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise _RedirectRefused(f"redirect to {newurl!r}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
