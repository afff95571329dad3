"""The chat in other apps' pages: the staff nav link, the customers' 24/7 launcher, the VIP's
dedicated button on the home page, and the waiting time of a chat.

Other apps never import `chat`; their templates load this library instead.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.models import Role
from accounts.permissions import STAFF_ROLES
from chat.selectors import chat_button, chats_waiting_count
from vipsupport.durations import compact_duration

register = template.Library()


@dataclass(frozen=True)
class ChatNav:
    url: str
    active: bool
    waiting: int  # chats waiting for an agent


@register.simple_tag(takes_context=True)
def chat_nav(context: template.Context) -> ChatNav | None:
    """The staff's "Chat" link and its count (one query); None for everyone else (no query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or getattr(user, "role", None) not in STAFF_ROLES:
        return None
    url = reverse("chat:inbox")
    return ChatNav(url=url, active=request.path.startswith(url), waiting=chats_waiting_count())


@register.simple_tag(takes_context=True)
def chat_launcher(context: template.Context) -> bool:
    """Whether the page shows the customers' floating "Chat with us" link: every customer page
    but the chat's own. No query (the role is the navigation's, already read)."""
    request = context.get("request")
    if request is None or getattr(getattr(request, "user", None), "role", None) != Role.CUSTOMER:
        return False
    match = getattr(request, "resolver_match", None)
    return match is None or match.namespace != "chat"


@register.inclusion_tag("chat/_button.html", takes_context=True)
def dedicated_chat_button(context: template.Context) -> dict[str, Any]:
    """The VIP's dedicated button; the caller shows it only to a company holding the add-on."""
    request = context["request"]
    return {
        "button": chat_button(customer=request.user, at=timezone.now()),
        "hours": context.get("hours"),
        "request": request,
    }


@register.simple_tag
def waited(since: datetime.datetime, now: datetime.datetime) -> SafeString:
    """How long a chat has waited, counting on in the browser (`static/js/portal.js`)."""
    return format_html(
        '<time class="waited" datetime="{}" data-countdown="{}" data-future="%s" '
        'data-past="%s">{}</time>',
        since.isoformat(),
        int(since.timestamp()),
        compact_duration(now - since, seconds=True),
    )


@register.filter
def lookup(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """`mapping[key]`, or None: the inbox's previews are keyed by conversation id."""
    return (mapping or {}).get(key)
