"""Reads about tickets and what happens to them, shared by pages and context processors."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from tickets.models import Notification


def notifications_unread_count(*, user: User) -> int:
    """How many of the user's notifications are unread; one count on the unread index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first, with the ticket and its company joined."""
    notifications = Notification.objects.filter(recipient=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    # The primary key breaks ties, so a page boundary never repeats or skips a row.
    return notifications.select_related("ticket__company").order_by("-created_at", "-pk")
