"""Calendar subscriptions: each user's secret feed address (services) and what it shows (reads).

The address carries a random token of 256 bits; only its SHA-256 is stored, so neither the
database nor a backup of it reveals a working address. A new address replaces the old one, which
stops working at once.
"""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.tokens import TOKEN_MAX_LENGTH, token_hash, token_new
from scheduling.ical import Audience
from scheduling.models import Booking, CalendarFeed

FEED_HISTORY = datetime.timedelta(days=90)


@transaction.atomic
def calendar_feed_create(*, user: User, now: datetime.datetime | None = None) -> str:
    """Give the user a new feed address, replacing any old one; returns the token, which is
    not stored and so can be shown only now."""
    now = now or timezone.now()
    # Serialises two requests of one user, so neither trips over the one-feed-per-user rule.
    User.objects.select_for_update().filter(pk=user.pk).first()
    CalendarFeed.objects.filter(user=user).delete()
    token = token_new()
    feed = CalendarFeed(user=user, token_hash=token_hash(token), created_at=now)
    feed.full_clean()
    feed.save()
    return token


@transaction.atomic
def calendar_feed_revoke(*, user: User) -> None:
    """Turn the user's feed address off; calendar apps using it get 404 from now on."""
    CalendarFeed.objects.filter(user=user).delete()


def calendar_feed_find(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def calendar_feed_owner(*, token: str) -> User | None:
    """The active user whose feed address has this token, or None."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    digest = token_hash(token)
    feed = (
        CalendarFeed.objects.select_related("user__agent_profile", "user__company")
        .filter(token_hash=digest, user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    return feed.user


def feed_audience(user: User) -> Audience | None:
    """Whose view of calls the user's feed shows; None for staff who take no calls."""
    if user.has_agent_profile:
        return Audience.AGENT
    if user.company_id is not None:
        return Audience.CUSTOMER
    return None


@dataclass(frozen=True)
class FeedContents:
    name: str
    audience: Audience
    bookings: list[Booking]


def feed_contents(*, user: User, now: datetime.datetime | None = None) -> FeedContents:
    """The calls in the user's feed, from `FEED_HISTORY` ago on: an agent's own calls, a
    customer's company's calls, nothing for anyone else. One query."""
    now = now or timezone.now()
    audience = feed_audience(user)
    bookings = Booking.objects.select_related(
        "agent", "customer", "company", "call_type", "ticket"
    ).filter(starts_at__gte=now - FEED_HISTORY)
    if audience is Audience.AGENT:
        name = _("VIP Support calls · %(name)s") % {"name": user}
        bookings = bookings.filter(agent=user)
    elif audience is Audience.CUSTOMER and user.company_id is not None:
        name = _("VIP Support calls · %(company)s") % {"company": user.company}
        bookings = bookings.filter(company_id=user.company_id)
    else:
        return FeedContents(name=_("VIP Support calls"), audience=Audience.AGENT, bookings=[])
    return FeedContents(name=name, audience=audience, bookings=list(bookings.order_by("starts_at")))
