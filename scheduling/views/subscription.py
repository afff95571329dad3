"""Calendar subscriptions: the page where a user makes or revokes their secret feed address, and
the feed itself, read by calendar apps without logging in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import User
from accounts.tokens import token_hash
from scheduling import ical, subscriptions

# The new token waits here between the POST that made it and the one page that shows it.
NEW_TOKEN_SESSION_KEY = "scheduling:new-feed-token"  # noqa: S105 (a key name, not a secret)
# Calendar apps poll on their own schedule; a short private cache spares repeated reads.
FEED_MAX_AGE = 300


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        _create_or_revoke(request, user, request.POST.get("action"))
        return redirect("scheduling:subscription")

    feed = subscriptions.calendar_feed_find(user=user)
    new_token: str | None = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    # Another tab may have revoked or replaced the address since this token was made.
    shown = feed is not None and new_token is not None and token_hash(new_token) == feed.token_hash
    feed_url = (
        request.build_absolute_uri(reverse("scheduling:feed", args=[new_token])) if shown else ""
    )
    audience = subscriptions.feed_audience(user)
    context = {
        "feed": feed,
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
        "audience": audience.value if audience else "",
        "history_days": subscriptions.FEED_HISTORY.days,
    }
    return render(request, "scheduling/subscription.html", context)


def _create_or_revoke(request: HttpRequest, user: User, action: str | None) -> None:
    """Make a new secret address (replacing any earlier one) or turn the address off."""
    if action == "create":
        request.session[NEW_TOKEN_SESSION_KEY] = subscriptions.calendar_feed_create(user=user)
        messages.success(
            request, _("Your new calendar address is ready; any earlier one no longer works.")
        )
    elif action == "revoke":
        subscriptions.calendar_feed_revoke(user=user)
        request.session.pop(NEW_TOKEN_SESSION_KEY, None)
        messages.success(request, _("Your calendar address is turned off."))
    else:
        messages.error(request, _("Choose whether to create a new address or turn it off."))


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's calls as iCalendar, in UTC; an unknown or revoked token is a 404."""
    owner = subscriptions.calendar_feed_owner(token=token)
    if owner is None:
        raise Http404
    with translation.override(owner.preferred_language):
        contents = subscriptions.feed_contents(user=owner)
        calendar = ical.feed_calendar(
            name=contents.name, bookings=contents.bookings, audience=contents.audience
        )
        body = calendar.to_ical()
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response["Content-Disposition"] = 'inline; filename="vip-support-calls.ics"'
    return response
