"""Reads for scheduling: an agent's availability over a window, call types, who takes a call."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from accounts.models import AssignmentRole, Company, DedicatedAssignment, User
from accounts.permissions import MANAGING_ROLES
from desk.selectors import desk_holidays, desk_weekly_hours, desk_zone
from scheduling import slots
from scheduling.busy import Span, feed_busy_spans
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

UTC = datetime.UTC
Hours = tuple[tuple[datetime.time, datetime.time], ...]
# Loaded around the asked window so whole local days (and buffers reaching over midnight) are in.
_MARGIN = datetime.timedelta(days=2)


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

    An agent without a schedule works the support desk's hours, in its zone. The desk's holidays
    are closed unless a date override gives them hours; a date override without hours closes a
    date.
    """
    low, high = start - _MARGIN, end + _MARGIN
    holidays = desk_holidays(start=low.date(), end=high.date() + datetime.timedelta(days=1))
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
                time_zone=desk_zone().key, weekly=desk_weekly_hours(), holidays=holidays
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


def _union(hours: list[tuple[datetime.time, datetime.time]]) -> Hours:
    """Merge overlapping intervals (rows saved together in one admin form are not cross-checked)."""
    merged: list[tuple[datetime.time, datetime.time]] = []
    for opens, closes in sorted(hours):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


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

    @property
    def assigned(self) -> list[User]:
        """The dedicated agent and the backup, those the company has (in that order)."""
        return [agent for agent in (self.dedicated, self.backup) if agent is not None]

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
        return AgentAvailability(desk_zone().key, dict(desk_weekly_hours()), [], [], [])
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


def calls_visible_to(*, viewer: User) -> QuerySet[Booking]:
    """The calls a staff member may open: managers and admins any, an agent their own."""
    calls = Booking.objects.select_related(
        "agent", "company", "customer", "call_type", "ticket", "cancelled_by"
    )
    return calls if viewer.role in MANAGING_ROLES else calls.filter(agent=viewer)
