"""Navigation that depends on who is looking."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

NAVIGATION = {
    Role.CUSTOMER: [("accounts:home", _("Home"))],
    Role.AGENT: [("tickets:queue", _("Queue"))],
    Role.SENIOR: [("tickets:queue", _("Queue"))],
    Role.MANAGER: [("sla:reports", _("Reports")), ("tickets:queue", _("Queue"))],
    Role.ADMIN: [
        ("admin:index", _("Admin")),
        ("sla:reports", _("Reports")),
        ("tickets:queue", _("Queue")),
    ],
}


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    items = []
    for name, label in NAVIGATION.get(role, []) if role is not None else []:
        url = reverse(name)
        items.append({"url": url, "label": label, "active": request.path.startswith(url)})
    return {"nav_items": items, "user_role": role}
