"""Refreshing agents' external busy-time feeds (iCalendar URLs) into their last good copy.

Every feed is fetched on its own (`busy_feed_refresh`; Celery Beat refreshes all of them, and a
task reads a feed an agent has just added), so one slow or broken feed never stops the others. A
fetch that fails in any way (timeout, HTTP error, too big, not a calendar, host refused) keeps the
last good copy and records why in `last_error`; busy times keep coming from the copy that worked.

Server-side request forgery: agents type the URLs, and the server fetches them through
`vipsupport.fetch`, which (unless the setting `BUSY_FEEDS_ALLOW_PRIVATE_HOSTS` is true; tests
serve feeds from 127.0.0.1) refuses to connect to anything but public addresses, for the first
request and every redirect, and uses no environment proxies.
"""

from __future__ import annotations

import datetime
import logging
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scheduling.busy import validate_calendar_text
from scheduling.models import BusyFeed
from vipsupport.fetch import MAX_REDIRECTS as MAX_REDIRECTS  # re-exported (it was here)
from vipsupport.fetch import FetchError, fetch
from vipsupport.fetch import address_allowed as address_allowed  # re-exported (it was here)

logger = logging.getLogger(__name__)

# Read at call time, so tests can lower them with monkeypatch.
FETCH_TIMEOUT_SECONDS = 10.0
MAX_FEED_BYTES = 2 * 1024 * 1024
_USER_AGENT = "VIP-Support-busy-feeds/1.0"
_ACCEPT = "text/calendar, */*;q=0.5"


class FeedError(Exception):
    """A fetch that did not give a usable calendar; the message is shown to the agent."""


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
    limit = MAX_FEED_BYTES
    try:
        fetched = fetch(
            url,
            max_bytes=limit,
            timeout=FETCH_TIMEOUT_SECONDS,
            accept=_ACCEPT,
            user_agent=_USER_AGENT,
            allow_private=getattr(settings, "BUSY_FEEDS_ALLOW_PRIVATE_HOSTS", False),
        )
    except FetchError as error:
        raise _feed_error(error, limit) from error
    return fetched.body, fetched.charset


def _feed_error(error: FetchError, limit: int) -> FeedError:
    """The fetch's reason, in the words the agent knows for a feed where it has them."""
    if error.code == "too_big":
        return FeedError(_("The feed is larger than %(size)s.") % {"size": filesizeformat(limit)})
    if error.code == "failed":
        return FeedError(
            _("The feed could not be fetched (%(reason)s).") % {"reason": error.reason}
        )
    return FeedError(str(error))
