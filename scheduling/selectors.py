"""Reads for scheduling: an agent's availability over a window, call types, who takes a call."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from accounts.models import AssignmentRole, Company, DedicatedAssignment, User
from accounts.selectors import (
    SUPPORT_DESK_CLOSES,
    SUPPORT_DESK_OPENS,
    SUPPORT_DESK_WEEKDAYS,
    SUPPORT_DESK_ZONE,
)
from scheduling import feeds, slots
from scheduling.models import (
    DEFAULT_MAX_CALLS_PER_DAY,
    AgentSchedule,
    Booking,
    BookingStatus,
    BusyFeed,
    CallType,
    DateOverride,
    TimeOff,
    WeeklyHours,
)

logger = logging.getLogger(__name__)

UTC = datetime.UTC
Hours = tuple[tuple[datetime.time, datetime.time], ...]
Span = tuple[datetime.datetime, datetime.datetime]
# Feeds' busy spans are cached per UTC day for this long a window (the booking horizon and more).
_CACHED_WINDOW = datetime.timedelta(days=64)
_CACHED_FOR = 60 * 60 * 24
# Loaded around the asked window so whole local days (and buffers reaching over midnight) are in.
_MARGIN = datetime.timedelta(days=2)

# Feeds are read on every calendar load, so the work one feed may cause is bounded: the events
# counted in a window, and the steps dateutil takes expanding recurrences. It walks each rule
# from its DTSTART on, however long ago that is, before it reaches the window.
MAX_FEED_OCCURRENCES = 5_000
MAX_FEED_RECURRENCE_STEPS = 200_000
_RULE_PERIODS = {
    "SECONDLY": datetime.timedelta(seconds=1),
    "MINUTELY": datetime.timedelta(minutes=1),
    "HOURLY": datetime.timedelta(hours=1),
    "DAILY": datetime.timedelta(days=1),
    "WEEKLY": datetime.timedelta(weeks=1),
    "MONTHLY": datetime.timedelta(days=28),
    "YEARLY": datetime.timedelta(days=365),
}
# A YEARLY or MONTHLY step sifts through the days of a year or a month (measured: about 8 and
# 2 times a daily step); BYHOUR, BYMINUTE and BYSECOND multiply the times tried in each step.
_STEP_WEIGHTS = {"YEARLY": 8, "MONTHLY": 2}
_FINER_PARTS = {
    "HOURLY": ("BYMINUTE", "BYSECOND"),
    "MINUTELY": ("BYSECOND",),
    "SECONDLY": (),
}

DEFAULT_WEEKLY_HOURS: dict[int, Hours] = {
    day: ((SUPPORT_DESK_OPENS, SUPPORT_DESK_CLOSES),) for day in SUPPORT_DESK_WEEKDAYS
}


@dataclass(frozen=True)
class AgentCalendar:
    """One agent's availability around a window, as the pure `scheduling.slots` values."""

    agent_id: int
    availability: slots.Availability
    max_calls_per_day: int
    booked: tuple[slots.Booking, ...] = ()
    busy: tuple[slots.Busy, ...] = ()

    def local_date(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.zone).date()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.availability.time_zone)

    def working_spans(self, day: datetime.date) -> list[Span]:
        """The agent's working intervals on a local date as UTC instants, clipped to the day
        (the mapping `slots.free_slots` uses)."""
        zone = self.zone
        floor = datetime.datetime.combine(day, datetime.time(0), zone).astimezone(UTC)
        ceiling = datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time(0), zone
        ).astimezone(UTC)
        spans = []
        for opens, closes in self.availability.intervals_on(day):
            start = max(datetime.datetime.combine(day, opens, zone).astimezone(UTC), floor)
            end = min(datetime.datetime.combine(day, closes, zone).astimezone(UTC), ceiling)
            if end > start:
                spans.append((start, end))
        return spans

    def calls_on(self, day: datetime.date) -> int:
        return sum(1 for call in self.booked if self.local_date(call.start) == day)


def agent_schedule_find(*, agent: User) -> AgentSchedule | None:
    return AgentSchedule.objects.filter(agent=agent).first()


def agent_calendar(
    *,
    agent: User,
    start: datetime.datetime,
    end: datetime.datetime,
    exclude_booking_id: int | None = None,
) -> AgentCalendar:
    """Hours, date overrides, time off, bookings and feed busy times around [start, end), for
    `scheduling.slots.free_slots`. Calls marked completed or no-show still count toward the
    day's limit; only cancelled ones give their time back.

    An agent without a schedule works the support desk's hours (Mon-Fri 09:00-17:00 Berlin).
    The support calendar's holidays (`settings.SCHEDULING_HOLIDAYS`) are closed unless a date
    override gives them hours; a date override without hours closes a date.
    """
    low, high = start - _MARGIN, end + _MARGIN
    holidays = support_holidays(start=low.date(), end=high.date() + datetime.timedelta(days=1))
    rows = Booking.objects.filter(
        agent=agent, blocked_from__lt=high, blocked_until__gt=low
    ).exclude(status=BookingStatus.CANCELLED)
    if exclude_booking_id is not None:
        rows = rows.exclude(pk=exclude_booking_id)
    booked = tuple(
        slots.Booking(starts_at, ends_at, buffer_before, buffer_after)
        for starts_at, ends_at, buffer_before, buffer_after in rows.order_by(
            "blocked_from"
        ).values_list("starts_at", "ends_at", "buffer_before", "buffer_after")
    )
    schedule = agent_schedule_find(agent=agent)
    if schedule is None:
        return AgentCalendar(
            agent_id=agent.pk,
            availability=slots.Availability(
                time_zone=SUPPORT_DESK_ZONE, weekly=DEFAULT_WEEKLY_HOURS, holidays=holidays
            ),
            max_calls_per_day=DEFAULT_MAX_CALLS_PER_DAY,
            booked=booked,
        )
    weekly: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, opens, closes in WeeklyHours.objects.filter(schedule=schedule).values_list(
        "weekday", "opens", "closes"
    ):
        weekly.setdefault(weekday, []).append((opens, closes))
    zone = ZoneInfo(schedule.time_zone)
    overrides: dict[datetime.date, list[tuple[datetime.time, datetime.time]]] = {}
    for day, override_opens, override_closes in DateOverride.objects.filter(
        schedule=schedule,
        date__gte=low.astimezone(zone).date(),
        date__lte=high.astimezone(zone).date(),
    ).values_list("date", "opens", "closes"):
        hours = overrides.setdefault(day, [])
        if override_opens is not None and override_closes is not None:
            hours.append((override_opens, override_closes))
    time_off = tuple(
        TimeOff.objects.filter(schedule=schedule, starts_at__lt=high, ends_at__gt=low)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )
    busy: list[slots.Busy] = []
    for feed in BusyFeed.objects.filter(schedule=schedule):
        busy.extend(
            slots.Busy(*span) for span in feed_busy_spans(feed=feed, start=low, end=high, zone=zone)
        )
    return AgentCalendar(
        agent_id=agent.pk,
        availability=slots.Availability(
            time_zone=schedule.time_zone,
            weekly={day: _union(hours) for day, hours in weekly.items()},
            overrides={day: _union(hours) for day, hours in overrides.items()},
            time_off=time_off,
            holidays=holidays,
        ),
        max_calls_per_day=schedule.max_calls_per_day,
        booked=booked,
        busy=tuple(busy),
    )


def support_holidays(*, start: datetime.date, end: datetime.date) -> frozenset[datetime.date]:
    """Dates the support desk is closed, from the function `settings.SCHEDULING_HOLIDAYS` names."""
    provider = getattr(settings, "SCHEDULING_HOLIDAYS", None)
    if not provider:
        return frozenset()
    return frozenset(import_string(provider)(start=start, end=end))


def _union(hours: list[tuple[datetime.time, datetime.time]]) -> Hours:
    """Merge overlapping intervals (rows saved together in one admin form are not cross-checked)."""
    merged: list[tuple[datetime.time, datetime.time]] = []
    for opens, closes in sorted(hours):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def feed_busy_spans(
    *, feed: BusyFeed, start: datetime.datetime, end: datetime.datetime, zone: ZoneInfo
) -> list[Span]:
    """Busy events of a feed's stored copy between start and end, recurrences expanded.

    Transparent ("free") and cancelled events do not count; all-day and floating events are read
    in the agent's zone. A copy that cannot be read gives no busy time (the fetcher records why);
    an event that cannot be read, or costs too much to expand, is left out on its own. At most
    `MAX_FEED_OCCURRENCES` events count, from the start of the cached window.

    Expanding a large calendar takes a second or more, so the spans of a window of
    `_CACHED_WINDOW` from the UTC day of `start` are cached under a key made of the copy's
    SHA-256, the zone and the day: a new copy is a new key, so a cached answer is never stale.
    """
    text = feed.busy_ics
    if not text.strip():
        return []
    window_start = datetime.datetime.combine(start.astimezone(UTC).date(), datetime.time(0), UTC)
    window_end = window_start + _CACHED_WINDOW
    if end > window_end:
        return _expand_feed(text, start=start, end=end, zone=zone, feed_id=feed.pk)
    digest = hashlib.sha256(text.encode()).hexdigest()
    key = f"scheduling:busy-spans:v1:{digest}:{zone.key}:{window_start.date().isoformat()}"
    cached = cache.get(key)
    if cached is None:
        spans = _expand_feed(text, start=window_start, end=window_end, zone=zone, feed_id=feed.pk)
        cached = [(begin.timestamp(), finish.timestamp()) for begin, finish in spans]
        cache.set(key, cached, timeout=_CACHED_FOR)
    return [
        (begin, finish)
        for begin, finish in (
            (datetime.datetime.fromtimestamp(a, UTC), datetime.datetime.fromtimestamp(b, UTC))
            for a, b in cached
        )
        if begin < end and finish > start
    ]


def _expand_feed(
    text: str,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    zone: ZoneInfo,
    feed_id: int,
) -> list[Span]:
    try:
        calendar = icalendar.Calendar.from_ical(text)
        _drop_costly_recurrences(calendar, until=end, feed_id=feed_id)
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
    except Exception:  # any parse error in someone else's file
        logger.warning("Busy-time feed %s could not be read", feed_id, exc_info=True)
        return []
    spans: list[Span] = []
    counted = 0
    for series in query.series:  # one event with its recurrences and their changes
        try:
            for occurrence in series.between(start, end):
                if counted == MAX_FEED_OCCURRENCES:
                    logger.warning(
                        "Busy-time feed %s has more than %d events in the window; the rest "
                        "are left out",
                        feed_id,
                        MAX_FEED_OCCURRENCES,
                    )
                    return spans
                counted += 1
                span = _busy_span(occurrence.as_component(False), zone)
                if span is not None:
                    spans.append(span)
        except Exception:  # an expansion error (dates beyond year 9999, mixed types, ...)
            logger.warning("Busy-time feed %s: an event was left out", feed_id, exc_info=True)
    return spans


def _busy_span(event: icalendar.Event, zone: ZoneInfo) -> Span | None:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    try:
        span = (_instant(event.start, zone), _instant(event.end, zone))
    except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
        return None  # OverflowError: an end so late that it is beyond the year 9999 in UTC
    return span if span[1] > span[0] else None


def _drop_costly_recurrences(
    calendar: icalendar.Calendar, *, until: datetime.datetime, feed_id: int
) -> None:
    """Remove events repeating every minute or second, and the recurring events that do not
    fit in the feed's budget of expansion steps, cheapest first (the costly ones mostly began
    long ago)."""
    costs = {
        index: _recurrence_steps(component, until=until)
        for index, component in enumerate(calendar.subcomponents)
        if component.name == "VEVENT"
    }
    budget = MAX_FEED_RECURRENCE_STEPS
    left_out = set()
    for index in sorted(costs, key=lambda index: (costs[index] is None, costs[index] or 0)):
        steps = costs[index]
        if steps is None or steps > budget:
            left_out.add(index)
        else:
            budget -= steps
    if left_out:
        logger.warning(
            "Busy-time feed %s: %d recurring events are too costly to expand and left out",
            feed_id,
            len(left_out),
        )
        calendar.subcomponents = [
            component
            for index, component in enumerate(calendar.subcomponents)
            if index not in left_out
        ]


def _recurrence_steps(event: icalendar.cal.Component, *, until: datetime.datetime) -> int | None:
    """Roughly the steps dateutil takes to expand the event's rules up to `until` (None: too
    many, or a rule that cannot be costed)."""
    rules = feeds.recurrence_rules(event)
    if not rules:
        return 0
    if feeds.repeats_too_often(event):
        return None
    try:
        first = _wall_clock(event.decoded("DTSTART"))
        steps = 0
        for rule in rules:
            frequency = rule["FREQ"][0]
            last = min(_wall_clock(value) for value in [until, *rule.get("UNTIL", [])])
            interval = max(int(rule.get("INTERVAL", [1])[0]), 1)
            periods = max((last - first) // (_RULE_PERIODS[frequency] * interval), 0) + 1
            if "COUNT" in rule and not any(part.startswith("BY") for part in rule):
                # One occurrence a period, but for a DTSTART on a day some months or years
                # lack (31st, 29 February: up to 8 years apart).
                periods = min(periods, int(rule["COUNT"][0]) * 8)
            per_period = _STEP_WEIGHTS.get(frequency, 1)
            for part in _FINER_PARTS.get(frequency, ("BYHOUR", "BYMINUTE", "BYSECOND")):
                per_period *= max(len(rule.get(part, ())), 1)
            steps += periods * per_period
    except (KeyError, IndexError, ValueError, TypeError, OverflowError):
        return None
    return steps


def _wall_clock(value: datetime.date | datetime.datetime) -> datetime.datetime:
    """A naive date and time to count periods with (a zone's offset is not worth a period)."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    return datetime.datetime.combine(value, datetime.time(0))


def _instant(value: datetime.date | datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        return datetime.datetime.combine(value, datetime.time(0), zone).astimezone(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone).astimezone(UTC)
    return value.astimezone(UTC)


def call_types_active() -> QuerySet[CallType]:
    return CallType.objects.filter(active=True)


def company_call_agent(
    *, company: Company, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> User | None:
    """Who takes a call with the company at that time: the dedicated agent, or the backup while
    the dedicated agent is away or has time off during the call (None: neither can)."""
    agents = company_call_agents(company=company, start=starts_at, end=ends_at)
    return agents.agent_for(starts_at, ends_at)


def agent_bookings_starting(
    *, agent: User, start: datetime.datetime, end: datetime.datetime
) -> list[Booking]:
    """The agent's calls (any status) starting in [start, end), with what a calendar shows."""
    return list(
        Booking.objects.filter(agent=agent, starts_at__gte=start, starts_at__lt=end)
        .select_related("company", "customer", "call_type")
        .order_by("starts_at", "pk")
    )


def agent_time_off_between(
    *, agent: User, start: datetime.datetime, end: datetime.datetime
) -> list[TimeOff]:
    """The agent's time off overlapping [start, end), with its reasons."""
    rows = TimeOff.objects.filter(schedule__agent=agent, starts_at__lt=end, ends_at__gt=start)
    return list(rows.order_by("starts_at", "pk"))


def agent_upcoming_calls(
    *, agent: User, now: datetime.datetime, within: datetime.timedelta
) -> list[Booking]:
    """Confirmed calls that have not ended and start before `now + within`, soonest first."""
    return list(
        Booking.objects.filter(
            agent=agent,
            status=BookingStatus.CONFIRMED,
            ends_at__gt=now,
            starts_at__lt=now + within,
        )
        .select_related("company", "customer", "call_type")
        .order_by("starts_at", "pk")
    )


def agent_recent_calls(
    *, agent: User, now: datetime.datetime, within: datetime.timedelta
) -> list[Booking]:
    """Calls that started in the last `within` and are done with (over, marked or cancelled),
    latest first."""
    return list(
        Booking.objects.filter(agent=agent, starts_at__gte=now - within, starts_at__lt=now)
        .exclude(status=BookingStatus.CONFIRMED, ends_at__gt=now)
        .select_related("company", "customer", "call_type")
        .order_by("-starts_at", "-pk")
    )


@dataclass(frozen=True)
class CallAgents:
    """A company's dedicated and backup agents and the dedicated agent's time off in a window:
    the answer `company_call_agent` gives for each call there, without a query per call."""

    dedicated: User | None
    backup: User | None
    dedicated_time_off: tuple[Span, ...] = ()

    def agent_for(self, starts_at: datetime.datetime, ends_at: datetime.datetime) -> User | None:
        dedicated, backup = self.dedicated, self.backup
        backup_free = backup is not None and not backup.agent_profile.is_away(starts_at)
        if dedicated is not None and not dedicated.agent_profile.is_away(starts_at):
            off = any(start < ends_at and end > starts_at for start, end in self.dedicated_time_off)
            return backup if off and backup_free else dedicated
        return backup if backup_free else None

    def stands_in(self, agent: User) -> bool:
        """Whether calls with `agent` are the backup standing in for the dedicated agent."""
        return self.dedicated is not None and agent.pk != self.dedicated.pk

    def backup_needed(self, start: datetime.datetime) -> bool:
        """Whether the backup may take any of the window's calls (from `start` on)."""
        dedicated = self.dedicated
        if self.backup is None:
            return False
        if dedicated is None or self.dedicated_time_off:
            return True
        away_until = dedicated.agent_profile.away_until
        return away_until is not None and away_until > start


def company_call_agents(
    *, company: Company, start: datetime.datetime, end: datetime.datetime
) -> CallAgents:
    """Who takes the company's calls between start and end (calls starting before `end`)."""
    agents = {
        row.role: row.agent
        for row in DedicatedAssignment.objects.filter(company=company)
        .current()
        .select_related("agent__agent_profile")
    }
    dedicated = agents.get(AssignmentRole.DEDICATED)
    time_off: tuple[Span, ...] = ()
    if dedicated is not None:
        time_off = tuple(
            TimeOff.objects.filter(schedule__agent=dedicated, starts_at__lt=end, ends_at__gt=start)
            .order_by("starts_at")
            .values_list("starts_at", "ends_at")
        )
    return CallAgents(dedicated, agents.get(AssignmentRole.BACKUP), time_off)


@dataclass(frozen=True)
class CompanyCalls:
    upcoming: list[Booking]
    past: list[Booking]


def company_calls(*, company: Company, now: datetime.datetime, limit: int = 50) -> CompanyCalls:
    """The company's calls that have not ended (soonest first) and the latest ended ones."""
    rows = Booking.objects.filter(company=company).select_related("call_type", "agent", "customer")
    return CompanyCalls(
        upcoming=list(rows.filter(ends_at__gt=now).order_by("starts_at", "pk")[:limit]),
        past=list(rows.filter(ends_at__lte=now).order_by("-starts_at", "-pk")[:limit]),
    )


@dataclass(frozen=True)
class AgentAvailability:
    """What the agent's availability page shows: hours, coming overrides and time off, feeds."""

    time_zone: str
    weekly: dict[int, Hours]
    overrides: list[DateOverride]
    time_off: list[TimeOff]
    feeds: list[BusyFeed]


def agent_availability(*, agent: User, now: datetime.datetime) -> AgentAvailability:
    """The agent's own availability settings; without a schedule, the support desk's hours."""
    schedule = agent_schedule_find(agent=agent)
    if schedule is None:
        return AgentAvailability(SUPPORT_DESK_ZONE, DEFAULT_WEEKLY_HOURS, [], [], [])
    weekly: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, opens, closes in WeeklyHours.objects.filter(schedule=schedule).values_list(
        "weekday", "opens", "closes"
    ):
        weekly.setdefault(weekday, []).append((opens, closes))
    today = now.astimezone(ZoneInfo(schedule.time_zone)).date()
    return AgentAvailability(
        time_zone=schedule.time_zone,
        weekly={day: _union(hours) for day, hours in weekly.items()},
        overrides=list(
            DateOverride.objects.filter(schedule=schedule, date__gte=today).order_by(
                "date", "opens"
            )
        ),
        time_off=list(
            TimeOff.objects.filter(schedule=schedule, ends_at__gt=now).order_by("starts_at", "pk")
        ),
        # The stored calendars can be megabytes; the page needs only their description.
        feeds=list(
            BusyFeed.objects.filter(schedule=schedule)
            .defer("uploaded_ics", "last_good_ics")
            .order_by("created_at", "pk")
        ),
    )
