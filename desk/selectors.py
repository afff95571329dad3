"""The support desk, read in one place: is it open, when does it open next, what are its hours
(in its own zone or the viewer's), which days is it closed. Pages, slots, SLA targets and the
channels all ask here.

The desk's calendar is cached whole (zone, weekly hours, holidays) under a version key that every
change to it deletes (`desk.receivers`), so a page asks the cache, not the database, and every
process sees an admin's change at once. A batch (`vipsupport.read_once`) asks the cache once.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from desk.business_time import BusinessCalendar
from desk.defaults import DESK_WEEKLY, DESK_ZONE
from desk.models import Intervals, SupportCalendar, business_calendar_of
from vipsupport.read_once import kept

logger = logging.getLogger(__name__)

_VERSION_KEY = "desk:version"
# The desk's "CET" is a name, not an offset: its hours are local time all year, named by the
# zone's standard time (the service description says "9:00-17:00 CET").
_STANDARD_TIME_CANDIDATES = (datetime.datetime(2001, 1, 15, 12), datetime.datetime(2001, 7, 15, 12))

Definition = tuple[str, Intervals, tuple[datetime.date, ...]]
_DEFAULT_DEFINITION: Definition = (
    DESK_ZONE,
    tuple(
        (weekday, opens, closes)
        for weekday, intervals in DESK_WEEKLY.items()
        for opens, closes in intervals
    ),
    (),
)


def desk_invalidate() -> None:
    """Forget the cached desk calendar (after any change to a calendar, its hours or holidays)."""
    cache.delete(_VERSION_KEY)


def _version() -> str:
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(_VERSION_KEY)
    return str(version)


def _definition() -> Definition:
    return kept(("desk", "definition"), _definition_cached)


def _definition_cached() -> Definition:
    key = f"desk:definition:{_version()}"
    definition: Definition | None = cache.get(key)
    if definition is None:
        calendar = SupportCalendar.objects.filter(is_desk=True).first()
        if calendar is None:  # none marked in the admin: keep serving, with the seed's desk
            logger.warning("No support calendar is marked as the desk's; using desk.defaults.")
            return _DEFAULT_DEFINITION
        definition = calendar.definition()
        cache.set(key, definition, timeout=None)
    return definition


def calendar_clock(*, calendar_id: int) -> BusinessCalendar:
    """Any support calendar's clock (an SLA target's, say), cached like the desk's and dropped by
    the same changes, so opening a target reads no calendar rows."""
    return kept(("desk", "calendar", calendar_id), lambda: _calendar_clock(calendar_id))


def _calendar_clock(calendar_id: int) -> BusinessCalendar:
    key = f"desk:calendar:{calendar_id}:{_version()}"
    definition: Definition | None = cache.get(key)
    if definition is None:
        definition = SupportCalendar.objects.get(pk=calendar_id).definition()
        cache.set(key, definition, timeout=None)
    return business_calendar_of(*definition)


def desk_calendar() -> SupportCalendar:
    """The support desk's calendar row (a query; pages use the cached readers below)."""
    return SupportCalendar.objects.get(is_desk=True)


def desk_clock() -> BusinessCalendar:
    """The desk's business-time clock: its weekly hours in its zone, minus its holidays."""
    return business_calendar_of(*_definition())


def desk_zone() -> ZoneInfo:
    return ZoneInfo(_definition()[0])


def desk_date(moment: datetime.datetime | None = None) -> datetime.date:
    """The desk's calendar day at `moment` (now by default).

    Plans, add-ons and assignments run by the desk's days, so whether a company holds the
    add-on never depends on the zone of whoever is looking.
    """
    return (moment or timezone.now()).astimezone(desk_zone()).date()


def desk_weekly_hours() -> Mapping[int, tuple[tuple[datetime.time, datetime.time], ...]]:
    """The desk's opening intervals by weekday (0 = Monday), in its own zone."""
    hours: dict[int, tuple[tuple[datetime.time, datetime.time], ...]] = {}
    for weekday, opens, closes in _definition()[1]:
        hours[weekday] = (*hours.get(weekday, ()), (opens, closes))
    return hours


def desk_holidays(*, start: datetime.date, end: datetime.date) -> frozenset[datetime.date]:
    """The desk's closed dates from `start` to `end`, inclusive."""
    return frozenset(day for day in _definition()[2] if start <= day <= end)


@dataclass(frozen=True)
class DeskHours:
    """The desk at a moment: open or not, its next opening, and its weekly hours in words."""

    open_now: bool
    next_opening: datetime.datetime | None
    summary: str  # in the desk's own zone, named: "Mon-Fri 09:00-17:00 CET"
    local_summary: str  # the same hours in the viewer's zone: "Mon-Fri 03:00-11:00"


def desk_hours(*, at: datetime.datetime, zone: ZoneInfo) -> DeskHours:
    """Whether the desk is open at `at` (holidays included), when it opens next, and the
    regular hours of the week of `at` in its zone and in `zone` (DST-exact)."""
    clock = desk_clock()
    own = desk_zone()
    openings = _week_openings(at, own)
    open_now = clock.is_open(at)
    return DeskHours(
        open_now=open_now,
        next_opening=None if open_now else clock.next_opening(at),
        summary=f"{_summary(openings, own)} {_standard_time_name(own)}".strip(),
        local_summary=_summary(openings, zone),
    )


def _week_openings(
    at: datetime.datetime, zone: ZoneInfo
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The regular openings of the desk's week that holds `at`, as instants, Monday first."""
    day = at.astimezone(zone).date()
    monday = day - datetime.timedelta(days=day.weekday())
    openings = []
    for weekday, intervals in sorted(desk_weekly_hours().items()):
        date = monday + datetime.timedelta(days=weekday)
        for opens, closes in intervals:
            openings.append(
                (
                    datetime.datetime.combine(date, opens, zone),
                    datetime.datetime.combine(date, closes, zone),
                )
            )
    return openings


def _summary(openings: list[tuple[datetime.datetime, datetime.datetime]], zone: ZoneInfo) -> str:
    """ "Mon-Fri 09:00-17:00", days with the same hours grouped, in `zone` and the active
    language; "(next day)" where an interval ends after the local midnight."""
    days: list[tuple[datetime.datetime, str]] = []
    for start, end in openings:
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        hours = f"{local_start:%H:%M}–{local_end:%H:%M}"
        if local_end.date() != local_start.date():
            hours = f"{hours} {_('(next day)')}"
        days.append((local_start, hours))
    groups: list[list[tuple[datetime.datetime, str]]] = []
    for day in days:
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and previous[1] == day[1]
            and (day[0].date() - previous[0].date()).days == 1
        ):
            groups[-1].append(day)
        else:
            groups.append([day])
    parts = []
    for group in groups:
        first, last = group[0][0], group[-1][0]
        names = dateformat.format(first, "D")
        if len(group) > 1:
            names = f"{names}–{dateformat.format(last, 'D')}"
        parts.append(f"{names} {group[0][1]}")
    return ", ".join(parts)


def _standard_time_name(zone: ZoneInfo) -> str:
    moments = [moment.replace(tzinfo=zone) for moment in _STANDARD_TIME_CANDIDATES]
    standard = next((moment for moment in moments if not moment.dst()), moments[0])
    return standard.tzname() or ""
