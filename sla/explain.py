"""Say in words, in the active language and time zone, why a target is due when it is."""

import datetime

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sla.models import Clock, SlaTarget, TargetKind

BUSINESS_DAY = datetime.timedelta(hours=8)
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


def duration_words(duration: datetime.timedelta, clock: str) -> str:
    """ "2 business hours", "1 business day", "4 hours", "30 minutes"."""
    if clock == Clock.BUSINESS:
        if duration % BUSINESS_DAY == datetime.timedelta(0):
            days = duration // BUSINESS_DAY
            return ngettext("%(n)d business day", "%(n)d business days", days) % {"n": days}
        if duration % HOUR == datetime.timedelta(0):
            hours = duration // HOUR
            return ngettext("%(n)d business hour", "%(n)d business hours", hours) % {"n": hours}
        minutes = duration // MINUTE
        return ngettext("%(n)d business minute", "%(n)d business minutes", minutes) % {"n": minutes}
    if duration % HOUR == datetime.timedelta(0):
        hours = duration // HOUR
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes = duration // MINUTE
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def moment_words(moment: datetime.datetime, *, near: datetime.datetime) -> str:
    """A weekday and time; with the date as well when it is not within the week of `near`."""
    local = timezone.localtime(moment)
    if abs(moment - near) < datetime.timedelta(days=6):
        return dateformat.format(local, "D H:i")
    return dateformat.format(local, "D j M H:i")


def target_explanation(target: SlaTarget) -> str:
    """E.g. "Received Fri 18:30 outside business hours; the clock started Mon 09:00;
    2 business hours → due Mon 11:00"."""
    received = moment_words(target.received_at, near=target.received_at)
    started = moment_words(target.started_at, near=target.received_at)
    due = moment_words(target.due_at, near=target.received_at)
    duration = duration_words(target.target, target.clock)
    if target.rebased_at is not None:
        return _(
            "Severity changed %(changed)s, when the time counted from %(started)s had already "
            "run out; %(duration)s from the change → due %(due)s"
        ) % {
            "changed": moment_words(target.rebased_at, near=target.rebased_at),
            "started": started,
            "duration": duration,
            "due": moment_words(target.due_at, near=target.rebased_at),
        }
    if target.kind == TargetKind.FOLLOW_UP:
        return _("Answered or reopened %(received)s; %(duration)s → next update due %(due)s") % {
            "received": received,
            "duration": duration,
            "due": due,
        }
    if target.started_at > target.received_at:
        return _(
            "Received %(received)s outside business hours; the clock started %(started)s; "
            "%(duration)s → due %(due)s"
        ) % {"received": received, "started": started, "duration": duration, "due": due}
    return _("Received %(received)s; %(duration)s → due %(due)s") % {
        "received": received,
        "duration": duration,
        "due": due,
    }
