"""The deadline badge the queue and the workspace show: green, amber once warned, red when late."""

from __future__ import annotations

import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
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


@register.simple_tag
def deadline_badge(
    due_at: datetime.datetime | None, warn_at: datetime.datetime | None, now: datetime.datetime
) -> SafeString:
    """Built in Python, not a sub-template: the queue draws fifty of these per refresh."""
    if due_at is None:
        return format_html(
            '<span class="deadline none" title="{}">—</span>', _("No SLA clock is running")
        )
    if now >= due_at:
        state = "breached"
    elif warn_at is not None and now >= warn_at:
        state = "warned"
    else:
        state = "ok"
    future, past = _("in %s"), _("overdue by %s")
    warn = format_html(' data-warn="{}"', int(warn_at.timestamp())) if warn_at else ""
    return format_html(
        '<span class="deadline {}"{}><time datetime="{}">{}</time> '
        '<span class="countdown" data-countdown="{}" data-future="{}" data-past="{}">{}</span>'
        "</span>",
        state,
        warn,
        due_at.isoformat(),
        dateformat.format(timezone.localtime(due_at), "D H:i T"),
        int(due_at.timestamp()),
        future,
        past,
        (future if due_at > now else past) % _span(due_at - now),
    )


@register.simple_tag
def options(choices: list[tuple[int, str]], selected: object) -> SafeString:
    """<option>s for a long list (every agent, every company), without a template per option."""
    chosen = "" if selected is None else str(selected)
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if str(value) == chosen else "", label) for value, label in choices),
    )
