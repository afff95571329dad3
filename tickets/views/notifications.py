"""The staff's notification list, and marking notifications read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.permissions import staff_only
from tickets import selectors, services
from tickets.models import Notification
from vipsupport.htmx import HtmxHttpRequest

NOTIFICATIONS_PER_PAGE = 50


@staff_only
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    unread_only = request.GET.get("unread") == "1"
    notifications = selectors.notifications_for(user=user, unread_only=unread_only)
    page = Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "unread_only": unread_only}
    return render(request, "tickets/notifications.html", context)


@staff_only
@require_POST
def notification_read(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        services.notification_mark_read(user=user, notification_id=pk)
    except Notification.DoesNotExist as missing:
        raise Http404 from missing
    if request.htmx:
        # The row in its new state, and the bell swapped out of band with its new count.
        context = {
            "notification": selectors.notifications_for(user=user).get(pk=pk),
            "unread_notifications": selectors.notifications_unread_count(user=user),
            "bell_oob": True,
        }
        return render(request, "tickets/_notification_row.html", context)
    return _back(request)


@staff_only
@require_POST
def notifications_read_all(request: HtmxHttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    count = services.notifications_mark_all_read(user=user)
    if request.htmx:
        return render(request, "tickets/_bell.html", {"unread_notifications": 0})
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                count,
            )
            % {"count": count},
        )
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the form was on when it says so and it is ours, else to the list."""
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect(reverse("tickets:notifications"))
