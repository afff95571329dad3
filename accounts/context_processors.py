"""Navigation that depends on who is looking."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

NAVIGATION = {
    Role.CUSTOMER: [
        ("accounts:home", _("Home")),
        ("tickets:list", _("Tickets")),
        ("tickets:new", _("New ticket")),
        ("scheduling:book", _("Calls")),
        ("sla:statement", _("SLA statement")),
    ],
    Role.AGENT: [("tickets:queue", _("Queue")), ("scheduling:calendar", _("Calendar"))],
    Role.SENIOR: [("tickets:queue", _("Queue")), ("scheduling:calendar", _("Calendar"))],
    Role.MANAGER: [
        ("sla:reports", _("Reports")),
        ("sla:report", _("SLA report")),
        ("sla:statement", _("SLA statements")),
        ("audit:log", _("Audit log")),
        ("tickets:queue", _("Queue")),
        ("scheduling:calendar", _("Calendars")),
    ],
    Role.ADMIN: [
        ("admin:index", _("Admin")),
        ("sla:reports", _("Reports")),
        ("sla:report", _("SLA report")),
        ("audit:log", _("Audit log")),
        ("tickets:queue", _("Queue")),
        ("webhooks:list", _("Webhooks")),
    ],
}


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    links = [(reverse(name), label) for name, label in NAVIGATION.get(role, [])] if role else []
    # The most specific link that contains the current page is the active one.
    matching = [
        url
        for url, _label in links
        if request.path == url or (request.path.startswith(url) and url != "/")
    ]
    active = max(matching, key=len, default=None)
    items = [{"url": url, "label": label, "active": url == active} for url, label in links]
    return {"nav_items": items, "user_role": role}
