"""The deadline badge the queue and the workspace show: green, amber once warned, red when late."""

from __future__ import annotations

import datetime

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def _span(delta: datetime.timedelta) -> str:
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


@register.inclusion_tag("tickets/_deadline.html")
def deadline_badge(
    due_at: datetime.datetime | None, warn_at: datetime.datetime | None, now: datetime.datetime
) -> dict[str, object]:
    if due_at is None:
        return {"due_at": None}
    if now >= due_at:
        state = "breached"
    elif warn_at is not None and now >= warn_at:
        state = "warned"
    else:
        state = "ok"
    future, past = _("in %s"), _("overdue by %s")
    return {
        "due_at": due_at,
        "warn_at": warn_at,
        "state": state,
        "future": future,
        "past": past,
        "text": (future if due_at > now else past) % _span(due_at - now),
    }
