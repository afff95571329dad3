"""Template context that depends on who is looking."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.permissions import STAFF_ROLES
from tickets.selectors import notifications_unread_count


def notification_bell(request: HttpRequest) -> dict[str, int | None]:
    """The unread count for the top bar's bell; None hides the bell (anonymous, customers)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role not in STAFF_ROLES:
        return {"unread_notifications": None}
    return {"unread_notifications": notifications_unread_count(user=user)}
