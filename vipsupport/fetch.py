"""Downloading from an address somebody else chose, without letting it reach what it must not.

`fetch` is for addresses the server does not control: agents' busy-time feeds, voicemail
recordings the telephony provider points at. Whatever happens, it returns a body or raises
`FetchError`, whose message is a translated sentence to show (or store) as it is:

- One deadline for the whole fetch, redirects included (`_Deadline`): a server sending a byte
  now and then does not keep it busy for longer.
- A byte limit, checked against Content-Length and while reading.
- Few redirects, and only to http or https addresses.
- `allowed_hosts`, when given: the address and every redirect must be on one of these hosts.
- Server-side request forgery: unless `allow_private`, a connection (the first one and after
  every redirect) only goes to public unicast addresses. The check runs on the addresses the
  socket actually connects to, so DNS tricks do not get past it. IPv6 addresses that carry an
  IPv4 address for translation or tunnelling (IPv4-mapped and -compatible, NAT64, 6to4, Teredo)
  are judged by the IPv4 address they lead to (`address_allowed`). Environment proxies are not
  used for the same reason.
- `auth`: HTTP basic credentials, sent to the address's own origin only: a redirect to another
  host, port or scheme drops them.

`post` sends a body (outgoing webhooks) through the same guarded opener, deadline and address
checks; it never follows a redirect (a 3xx answer is a `FetchError` with code "redirect").

The project layer: Django and the standard library only, no app.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import ipaddress
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from vipsupport.ids import parse_int

MAX_REDIRECTS = 3
DEFAULT_USER_AGENT = "VIP-Support/1.0"
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    body: bytes
    # "type/subtype" in lower case without parameters ("audio/mpeg"); "" when the server sent no
    # Content-Type, "text/plain" when it sent one that cannot be read (RFC 2045's default).
    content_type: str
    charset: str | None  # the Content-Type's charset parameter, lower case, if any
    final_url: str  # after redirects
    status: int = 200  # the final answer's HTTP status (always 2xx: others raise FetchError)


class FetchError(Exception):
    """A fetch that failed; the message is a translated sentence for the person concerned.

    `code` says what failed, for callers that word it their own way: "scheme", "host" (not an
    allowed host), "private" (only non-public addresses), "name" (not found), "refused",
    "timeout", "status" (an HTTP error; `status` holds it), "redirect" (`status` holds the 3xx
    answered to a post), "too_big", "failed" (any other connection or protocol error; `reason`
    holds it).
    """

    def __init__(
        self, message: str, *, code: str = "error", status: int | None = None, reason: object = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.reason = reason


class _HostRefused(OSError):
    """The host resolves only to addresses the server must not connect to."""


class _RedirectRefused(urllib.error.URLError):
    """A redirect to something other than an http(s) address."""


class _RedirectHostRefused(urllib.error.URLError):
    """A redirect to a host outside `allowed_hosts`."""


# ---------------------------------------------------------------------------- fetch


def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    accept: str = "*/*",
    allow_private: bool = False,
    allowed_hosts: Collection[str] | None = None,
    auth: tuple[str, str] | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
) -> Fetched:
    """GET `url` (http or https), all of it within `timeout` seconds from the start, at most
    `max_bytes` long, following at most `MAX_REDIRECTS` redirects; `FetchError` otherwise.

    `allowed_hosts`: host names (case-insensitive; "*.example.com" is any host under
    example.com, not example.com itself) the address and every redirect must be on; None for
    any host, an empty collection for none. `auth` (user, password) needs `allowed_hosts`.
    `allow_private` lets connections reach private, loopback and other non-public addresses.
    """
    if auth is not None and allowed_hosts is None:
        raise ValueError("fetch: auth is only sent to allowed_hosts, so name them")
    headers = {"User-Agent": user_agent, "Accept": accept}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return _request(
        url,
        method="GET",
        data=None,
        headers=headers,
        max_bytes=max_bytes,
        timeout=timeout,
        allow_private=allow_private,
        allowed_hosts=allowed_hosts,
        follow_redirects=True,
    )


def post(
    url: str,
    *,
    data: bytes,
    headers: Mapping[str, str],
    timeout: float,
    max_bytes: int = 64 * 1024,
    allow_private: bool = False,
) -> Fetched:
    """POST `data` to `url` (http or https) with `headers`, all within `timeout` seconds, under
    the same address rules as `fetch`; a redirect is not followed but fails ("redirect").

    Only a 2xx answer returns; its body is read up to `max_bytes` and cut there, since the
    answer to a delivery is not the point of it.
    """
    return _request(
        url,
        method="POST",
        data=data,
        headers={"User-Agent": DEFAULT_USER_AGENT, **headers},
        max_bytes=max_bytes,
        timeout=timeout,
        allow_private=allow_private,
        allowed_hosts=None,
        follow_redirects=False,
        truncate=True,
    )


def _request(
    url: str,
    *,
    method: str,
    data: bytes | None,
    headers: Mapping[str, str],
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    allowed_hosts: Collection[str] | None,
    follow_redirects: bool,
    truncate: bool = False,
) -> Fetched:
    """One guarded HTTP exchange: the checks every fetch and post share."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # "http://[::1", say
        raise _connection_error(error, timeout) from error
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(_("Only http and https addresses can be fetched."), code="scheme")
    if allowed_hosts is not None and not host_allowed(parts.hostname, allowed_hosts):
        raise _host_not_allowed()
    request = urllib.request.Request(  # noqa: S310 (http and https only)
        url, data=data, headers=dict(headers), method=method
    )
    with _Deadline(timeout) as deadline:
        opener = _opener(
            deadline,
            allow_private=allow_private,
            allowed_hosts=allowed_hosts,
            follow_redirects=follow_redirects,
        )
        try:
            fetched = _read(
                opener, request, max_bytes=max_bytes, timeout=timeout, truncate=truncate
            )
        except FetchError as error:
            if deadline.passed:  # whatever broke, it broke because the time was up
                raise _timed_out(timeout) from error
            raise
        # A stream without a length that was cut off at the deadline looks complete.
        if deadline.passed:
            raise _timed_out(timeout)
    return fetched


def host_allowed(host: str, allowed_hosts: Collection[str]) -> bool:
    """Whether `host` is one of `allowed_hosts`: the same name (case, a final dot, brackets of an
    IPv6 address and IDNA spelling aside), or under an entry "*.name" (not name itself)."""
    host = _host_key(host)
    if not host:
        return False
    for entry in allowed_hosts:
        if entry.startswith("*."):
            if host.endswith("." + _host_key(entry[2:])):
                return True
        elif host == _host_key(entry):
            return True
    return False


def _host_key(host: str) -> str:
    host = host.strip().removeprefix("[").removesuffix("]").removesuffix(".")
    # The ASCII form a resolver is asked for, so "bücher.example" and its xn-- spelling agree.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    return host.lower()


def _read(
    opener: urllib.request.OpenerDirector,
    request: urllib.request.Request,
    *,
    max_bytes: int,
    timeout: float,
    truncate: bool = False,
) -> Fetched:
    """The answer's body, at most `max_bytes` of it: `truncate` cuts it there, otherwise a
    longer one is refused."""
    try:
        with opener.open(request, timeout=timeout) as response:
            # Only ASCII digits are a length ("²", "12abc", "-1" are not): without one, the body
            # is read up to the limit, like one sent without a length.
            declared = parse_int(response.headers.get("Content-Length", "").strip(), minimum=0)
            if declared is not None and declared > max_bytes and not truncate:
                raise _too_big(max_bytes)
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(_CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    if truncate:
                        chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                        break
                    raise _too_big(max_bytes)
                chunks.append(chunk)
            headers = response.headers
            return Fetched(
                body=b"".join(chunks),
                content_type=headers.get_content_type() if "Content-Type" in headers else "",
                charset=headers.get_content_charset(),
                final_url=response.geturl(),
                status=response.status,
            )
    except urllib.error.HTTPError as error:
        error.close()
        if 300 <= error.code < 400:  # too many or unusable redirects, or none to be followed
            raise _redirect_error(status=error.code) from error
        raise FetchError(
            _("The server answered with HTTP status %(status)s.") % {"status": error.code},
            code="status",
            status=error.code,
        ) from error
    except _RedirectRefused as error:
        raise _redirect_error() from error
    except _RedirectHostRefused as error:
        raise _host_not_allowed() from error
    except urllib.error.URLError as error:
        raise _connection_error(error.reason, timeout) from error
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as error:
        # ValueError: urllib's reading of a malformed redirect ("http://[::1", say).
        raise _connection_error(error, timeout) from error


def _connection_error(reason: object, timeout: float) -> FetchError:
    if isinstance(reason, _HostRefused):
        return FetchError(
            _("The address points into a private network, so it is not fetched for safety."),
            code="private",
        )
    if isinstance(reason, TimeoutError):
        return _timed_out(timeout)
    if isinstance(reason, socket.gaierror):
        return FetchError(_("The server's name could not be found."), code="name")
    if isinstance(reason, ConnectionRefusedError):
        return FetchError(_("The server refused the connection."), code="refused")
    return FetchError(
        _("The address could not be fetched (%(reason)s).") % {"reason": reason},
        code="failed",
        reason=reason,
    )


def _host_not_allowed() -> FetchError:
    return FetchError(_("The address is not one we fetch from."), code="host")


def _redirect_error(status: int | None = None) -> FetchError:
    return FetchError(
        _("The address redirects too often, or to something that is not a web page."),
        code="redirect",
        status=status,
    )


def _too_big(limit: int) -> FetchError:
    return FetchError(
        _("The file is larger than %(size)s.") % {"size": filesizeformat(limit)}, code="too_big"
    )


def _timed_out(seconds: float) -> FetchError:
    return FetchError(
        _("The server did not answer within %(seconds)s seconds.") % {"seconds": f"{seconds:g}"},
        code="timeout",
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


def _opener(
    deadline: _Deadline,
    *,
    allow_private: bool,
    allowed_hosts: Collection[str] | None,
    follow_redirects: bool = True,
) -> urllib.request.OpenerDirector:
    """HTTP and HTTPS only (no file:, ftp:, data:), no proxies, few redirects (none unless
    `follow_redirects`: a 3xx is then an HTTP error), guarded sockets."""
    opener = urllib.request.OpenerDirector()
    handlers: list[urllib.request.BaseHandler] = [
        _GuardedHTTPHandler(deadline, allow_private=allow_private),
        _GuardedHTTPSHandler(deadline, allow_private=allow_private),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ]
    if follow_redirects:
        handlers.append(_LimitedRedirectHandler(allowed_hosts=allowed_hosts))
    for handler in handlers:
        opener.add_handler(handler)
    return opener


# RFC 6052: the NAT64 well-known prefix (the IPv4 address is the last 32 bits) and the
# local-use prefix of RFC 8215, whose embedding depends on a prefix length chosen by the network.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# RFC 4291 §2.5.5.1: IPv4-compatible addresses, `::a.b.c.d` (`::` and `::1` excepted).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def address_allowed(address: str) -> bool:
    """Whether the server may connect to this IP address (a scope `%zone` is ignored): a
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
    address: tuple[str, int],
    timeout: Any = None,
    source_address: Any = None,
    *,
    allow_private: bool = False,
) -> socket.socket:
    """`socket.create_connection`, refusing non-public addresses unless `allow_private`."""
    if allow_private:
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
        # Passed as keywords through `do_open`, whose signature knows nothing of them.
        self._deadline: _Deadline = kwargs.pop("deadline")
        allow_private: bool = kwargs.pop("allow_private")
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(
            _guarded_create_connection, allow_private=allow_private
        )

    def connect(self) -> None:
        super().connect()  # for HTTPS this includes the TLS handshake
        self._deadline.watch(self.sock)


class _GuardedHTTPSConnection(_GuardedHTTPConnection, http.client.HTTPSConnection):
    pass


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline, *, allow_private: bool) -> None:
        super().__init__()
        self._deadline = deadline
        self._allow_private = allow_private

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _GuardedHTTPConnection,
            req,
            deadline=self._deadline,
            allow_private=self._allow_private,
        )


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline, *, allow_private: bool) -> None:
        super().__init__()
        self._deadline = deadline
        self._allow_private = allow_private

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _GuardedHTTPSConnection,
            req,
            context=self._context,  # type: ignore[attr-defined]
            deadline=self._deadline,
            allow_private=self._allow_private,
        )


class _LimitedRedirectHandler(urllib.request.HTTPRedirectHandler):
    """At most `MAX_REDIRECTS` redirects, each to an http(s) address on an allowed host;
    credentials go along only to the same origin (scheme, host and port)."""

    max_redirections = MAX_REDIRECTS
    max_repeats = 1

    def __init__(self, *, allowed_hosts: Collection[str] | None) -> None:
        super().__init__()
        self.allowed_hosts = allowed_hosts

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urlsplit(newurl)
        if target.scheme.lower() not in ("http", "https"):
            fp.close()  # the redirect's own answer, which urllib closes only when it follows
            raise _RedirectRefused(f"redirect to {newurl!r}")
        if self.allowed_hosts is not None and not host_allowed(
            target.hostname or "", self.allowed_hosts
        ):
            fp.close()
            raise _RedirectHostRefused(f"redirect to {newurl!r}")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(target) != _origin(urlsplit(req.full_url)):
            new.remove_header("Authorization")
        return new


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number: no origin to share
        port = -1
    return scheme, _host_key(parts.hostname or ""), port or {"http": 80, "https": 443}.get(scheme)
