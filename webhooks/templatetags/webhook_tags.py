"""The webhooks page in other apps' pages: a link for those who may use it."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import company_holds_addon

register = template.Library()


@register.simple_tag(takes_context=True)
def webhooks_link(context: template.Context) -> str:
    """The page's address for admins and VIP companies' people (one query), else ""."""
    user = getattr(context.get("request"), "user", None)
    role = getattr(user, "role", None)
    if role == Role.ADMIN:
        return reverse("webhooks:list")
    if (
        role == Role.CUSTOMER
        and user is not None
        and user.company is not None
        and company_holds_addon(company=user.company, at=timezone.now())
    ):
        return reverse("webhooks:list")
    return ""
