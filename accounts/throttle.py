"""Brute-force limits: who the client is, whose sign-ins axes counts, and the reset-e-mail budget.

One rule for the client address everywhere (axes' lockouts and the reset limits): REMOTE_ADDR.
Behind a reverse proxy it must be the real client's address, which the ASGI server sets from the
proxy's X-Forwarded-For (uvicorn trusts it from `--forwarded-allow-ips`, 127.0.0.1 by default);
the portal itself never reads X-Forwarded-For, which any client can send.
"""

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import normalize_email

logger = logging.getLogger(__name__)

# Password-reset e-mails: at most this many per target address and per client address in each
# clock hour; over either, the form answers as usual ("check your inbox") but sends nothing.
RESET_EMAILS_PER_ADDRESS = 3
RESET_EMAILS_PER_CLIENT = 10
RESET_WINDOW_SECONDS = 60 * 60


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as the server saw it (REMOTE_ADDR; see the module's note), or None
    for a request that has none (axes stores that as an empty address)."""
    return request.META.get("REMOTE_ADDR") or None


def login_username(request: HttpRequest, credentials: Mapping[str, Any] | None) -> str | None:
    """The username axes counts failures under: the e-mail as the login compares it.

    `User.objects.get_by_natural_key` lower-cases and strips the e-mail, so "Ann@X" and "ann@x "
    are one account and must share one failure count (AXES_USERNAME_CALLABLE).
    """
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username")
    return normalize_email(username) if isinstance(username, str) else None


def password_reset_email_allowed(*, email: str, client: str | None) -> bool:
    """Count one reset request for `email` from `client`; may its e-mail go out?

    Fixed windows of one clock hour, an atomic counter per window in the cache (add, then incr),
    for the target address and for the client address. Every request counts, refused or not,
    whether or not an account has that address, so the answer tells nothing about accounts.
    """
    address = normalize_email(email)
    window = int(time.time()) // RESET_WINDOW_SECONDS
    address_count = _count(f"reset-email:address:{_digest(address)}:{window}")
    client_count = _count(f"reset-email:client:{_digest(client or '')}:{window}")
    if address_count > RESET_EMAILS_PER_ADDRESS:
        logger.warning(
            "Password reset e-mail to %s not sent: %d requests for it this hour (limit %d); "
            "client %s.",
            address,
            address_count,
            RESET_EMAILS_PER_ADDRESS,
            client,
        )
        return False
    if client_count > RESET_EMAILS_PER_CLIENT:
        logger.warning(
            "Password reset e-mail to %s not sent: %d requests from client %s this hour "
            "(limit %d).",
            address,
            client_count,
            client,
            RESET_EMAILS_PER_CLIENT,
        )
        return False
    return True


def _count(key: str) -> int:
    """Add one to the counter `key` (created at 0 if missing) and return its new value."""
    cache.add(key, 0, timeout=RESET_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # it expired between add and incr: this request starts it again
        cache.add(key, 1, timeout=RESET_WINDOW_SECONDS)
        return 1


def _digest(value: str) -> str:
    """A short, cache-key-safe stand-in for an address (no e-mail addresses in cache keys)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]
