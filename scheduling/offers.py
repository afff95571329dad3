"""What the customer's booking pages offer: a week of free times, each with the agent who takes
it, and whom a chosen time is with. Reads only: the free times are those the services accept."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Company, User
from scheduling import slots
from scheduling.forms import instant_param
from scheduling.models import Booking, CallType
from scheduling.selectors import CallAgents, company_call_agents
from scheduling.services.bookings import call_free_starts
from scheduling.weeks import Week


@dataclass(frozen=True)
class OfferedSlot:
    """A free time as a button: when, and with whom (the backup when standing in)."""

    start: datetime.datetime
    end: datetime.datetime
    agent: User
    standing_in: bool

    @property
    def param(self) -> str:
        return instant_param(self.start)


@dataclass(frozen=True)
class OfferedWeek:
    """The week a booking page shows, its free times by the viewer's local day, and whether the
    pages before and after it are bookable; `notice` says why the asked week is not shown."""

    week: Week
    days: list[tuple[datetime.date, list[OfferedSlot]]]
    notice: str
    standing_in: User | None
    has_previous: bool
    has_next: bool


def offered_slots(
    *,
    company: Company,
    call_type: CallType,
    week: Week,
    now: datetime.datetime,
    booking: Booking | None = None,
) -> list[OfferedSlot]:
    """The week's free times, each with the agent `company_call_agent` names for it.

    The dedicated agent's free times, and the backup's while the backup stands in; a booking
    being moved keeps its agent, so only that agent's times count.
    """
    duration = booking.duration if booking else call_type.duration
    agents = company_call_agents(company=company, start=week.start, end=week.end + duration)
    if booking is not None:
        candidates = [booking.agent]
    else:
        candidates = agents.assigned
        if agents.backup is not None and not agents.backup_needed(week.start):
            candidates.remove(agents.backup)
    offered = []
    for agent in candidates:
        free = call_free_starts(
            agent=agent,
            call_type=call_type,
            now=now,
            start=week.start,
            end=week.end,
            booking=booking,
        )
        for start in free:
            taker = agents.agent_for(start, start + duration)
            if taker is not None and taker.pk == agent.pk:
                offered.append(OfferedSlot(start, start + duration, agent, agents.stands_in(agent)))
    return offered


def offered_week(
    *,
    company: Company,
    call_type: CallType,
    now: datetime.datetime,
    zone: ZoneInfo,
    asked: str | None,
    booking: Booking | None = None,
) -> OfferedWeek:
    """The week holding the ISO date `asked` (`?week=`) if it lies between now and the horizon;
    unasked, the first week with a free time (for a call being moved, the call's week)."""
    first = Week.containing(now.astimezone(zone).date(), zone)
    last = Week.containing((now + call_type.horizon).astimezone(zone).date(), zone)
    default_day = booking.starts_at.astimezone(zone).date() if booking else first.monday
    notice = ""
    week = Week.from_param(asked, zone=zone, today=default_day)
    if week is None:
        week = first
        notice = _("That week is not a date we understand; here is this week.")
    if not first.monday <= week.monday <= last.monday:
        horizon_days = max(1, round(call_type.horizon / datetime.timedelta(days=1)))
        notice = ngettext(
            "Calls can be booked from now up to %(days)d day ahead; here is this week.",
            "Calls can be booked from now up to %(days)d days ahead; here is this week.",
            horizon_days,
        ) % {"days": horizon_days}
        week = first
    offered = offered_slots(
        company=company, call_type=call_type, week=week, now=now, booking=booking
    )
    if asked is None and booking is None:
        # Late in the week every time may have passed: open on the first week with one.
        while not offered and week.monday < last.monday:
            week = week.next
            offered = offered_slots(company=company, call_type=call_type, week=week, now=now)
    by_start = {slot.start: slot for slot in offered}
    by_day = slots.slots_by_local_day(
        [slots.Slot(slot.start, slot.end) for slot in offered], zone.key
    )
    return OfferedWeek(
        week=week,
        days=[(day, [by_start[slot.start] for slot in by_day.get(day, [])]) for day in week.days],
        notice=notice,
        standing_in=next((slot.agent for slot in offered if slot.standing_in), None),
        has_previous=week.monday > first.monday,
        has_next=week.monday < last.monday,
    )


def offered_agent(
    *, agents: CallAgents, start: datetime.datetime, end: datetime.datetime, asked: str | None
) -> User | None:
    """Whom a call at [start, end) is with: the agent the chosen time named (`asked`, an id) if
    that is the dedicated or the backup agent, else nobody; unnamed, whoever takes calls then."""
    if asked is None:
        return agents.agent_for(start, end)
    return next((agent for agent in agents.assigned if str(agent.pk) == asked), None)


def offered_agent_choices(*, agents: CallAgents) -> QuerySet[User]:
    """The agents a booking form accepts: the company's dedicated and backup agents."""
    return User.objects.filter(pk__in=[agent.pk for agent in agents.assigned])


def offered_slots_at(
    starts: list[datetime.datetime], *, duration: datetime.timedelta, agent: User
) -> list[OfferedSlot]:
    """Free starts the services named (the nearest to a taken time), as buttons."""
    return [OfferedSlot(start, start + duration, agent, standing_in=False) for start in starts]
