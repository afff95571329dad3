"""The agent's side of calls: the week calendar (managers pick any agent) and one call's page,
where the agent keeps notes, cancels, or marks the call completed or a no-show."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import MANAGING_ROLES, staff_only
from accounts.selectors import agent_choices
from scheduling import selectors
from scheduling.forms import AgentCancelForm, MarkForm, NotesForm
from scheduling.models import Booking, BookingStatus
from scheduling.services import bookings
from scheduling.weeks import Week
from vipsupport.forms import form_add_service_errors
from vipsupport.ids import parse_id
from vipsupport.zones import current_zone

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)
# How far the upcoming and the recent call lists under the calendar reach.
CALL_LIST_REACH = datetime.timedelta(days=30)
# From this long before a call its page puts the number to call (or the video link) first.
CALL_TIME_AHEAD = datetime.timedelta(minutes=15)


def _viewer(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _manages(user: User) -> bool:
    return user.role in MANAGING_ROLES


# ---------------------------------------------------------------------------- the week


@dataclass(frozen=True)
class Entry:
    """One block drawn in a day column, cut at the viewer's midnights (a call is never cut)."""

    kind: str  # "hours", "time-off", "busy" or "call"
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    opens: str
    closes: str
    label: str = ""
    booking: Booking | None = None


@dataclass
class DayColumn:
    date: datetime.date
    is_today: bool
    hours: list[Entry] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


_ENTRY_ORDER = {"time-off": 0, "busy": 1, "call": 2}


class WeekLayout:
    """The viewer's local days of a week and the UTC bounds of each."""

    def __init__(self, week: Week, today: datetime.date) -> None:
        self.week = week
        self.zone = week.zone
        self.columns = {day: DayColumn(date=day, is_today=day == today) for day in week.days}
        self._bounds = [
            (day, _midnight(day, self.zone), _midnight(day + ONE_DAY, self.zone))
            for day in week.days
        ]

    def pieces(
        self, start: datetime.datetime, end: datetime.datetime
    ) -> Iterator[tuple[datetime.date, datetime.datetime, datetime.datetime]]:
        """The parts of [start, end) that fall on each of the week's local days."""
        for day, floor, ceiling in self._bounds:
            if start < ceiling and end > floor:
                yield day, max(start, floor), min(end, ceiling)

    def clock(self, moment: datetime.datetime, day: datetime.date) -> str:
        """The wall-clock time on `day`; the next midnight reads 24:00."""
        local = moment.astimezone(self.zone)
        if local.date() > day and local.time() == datetime.time(0):
            return "24:00"
        return local.strftime("%H:%M")

    def add_span(
        self, kind: str, start: datetime.datetime, end: datetime.datetime, label: str = ""
    ) -> None:
        for day, piece_start, piece_end in self.pieces(start, end):
            entry = Entry(
                kind=kind,
                starts_at=piece_start,
                ends_at=piece_end,
                opens=self.clock(piece_start, day),
                closes=self.clock(piece_end, day),
                label=label,
            )
            column = self.columns[day]
            (column.hours if kind == "hours" else column.entries).append(entry)

    def add_call(self, booking: Booking) -> None:
        day = self.week.day_of(booking.starts_at)
        if day not in self.columns:
            return
        self.columns[day].entries.append(
            Entry(
                kind="call",
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                opens=self.clock(booking.starts_at, day),
                closes=booking.ends_at.astimezone(self.zone).strftime("%H:%M"),
                booking=booking,
            )
        )

    def days(self) -> list[DayColumn]:
        for column in self.columns.values():
            column.hours.sort(key=lambda entry: entry.starts_at)
            column.entries.sort(key=lambda entry: (entry.starts_at, _ENTRY_ORDER[entry.kind]))
        return list(self.columns.values())


def _midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), zone).astimezone(UTC)


def week_days(*, agent: User, week: Week, today: datetime.date) -> list[DayColumn]:
    """The agent's working hours, time off, external busy time and calls over the viewer's
    week, each placed on the viewer's local day (split where it crosses the viewer's midnight)."""
    calendar = selectors.agent_calendar(agent=agent, start=week.start, end=week.end)
    layout = WeekLayout(week, today)
    # Working hours belong to the agent's local dates; those overlapping the viewer's week
    # lie within a day of its bounds in the agent's zone.
    agent_day = week.start.astimezone(calendar.zone).date() - ONE_DAY
    last_agent_day = week.end.astimezone(calendar.zone).date() + ONE_DAY
    while agent_day <= last_agent_day:
        for opens, closes in calendar.working_spans(agent_day):
            layout.add_span("hours", opens, closes)
        agent_day += ONE_DAY
    for row in selectors.agent_time_off_between(agent=agent, start=week.start, end=week.end):
        layout.add_span("time-off", row.starts_at, row.ends_at, row.reason)
    for busy in calendar.busy:
        layout.add_span("busy", busy.start, busy.end, _("Busy"))
    for booking in selectors.agent_bookings_starting(agent=agent, start=week.start, end=week.end):
        layout.add_call(booking)
    return layout.days()


def _agent_or_404(raw: str) -> User:
    pk = parse_id(raw)
    if pk is None:
        raise Http404
    return get_object_or_404(User, pk=pk, agent_profile__isnull=False)


def _calendar_agent(request: HttpRequest, viewer: User) -> tuple[User | None, list[Any]]:
    """Whose calendar to show, and the agents a manager may pick from (empty for agents)."""
    raw = request.GET.get("agent", "")
    if not _manages(viewer):
        if raw and raw != str(viewer.pk):
            raise Http404
        return viewer, []
    choices = agent_choices()
    if raw:
        agent = _agent_or_404(raw)
    elif viewer.has_agent_profile:
        agent = viewer
    elif choices:
        agent = _agent_or_404(str(choices[0][0]))
    else:
        return None, choices
    if agent.pk not in {pk for pk, _name in choices}:  # an agent who has left
        choices = [*choices, (agent.pk, str(agent))]
    return agent, choices


def _week(request: HttpRequest, zone: ZoneInfo, today: datetime.date) -> tuple[Week, str]:
    """The asked week, or this week and the reason the asked one could not be shown."""
    value = request.GET.get("week", "").strip()
    week = Week.from_param(value, zone=zone, today=today)
    if week is None or not week.pageable:
        message = _(
            "“%(value)s” is not a week that can be shown; give a date as YYYY-MM-DD. "
            "Showing this week instead."
        ) % {"value": value}
        return Week.containing(today, zone), message
    return week, ""


@staff_only
def week(request: HttpRequest) -> HttpResponse:
    """A week of one agent's calendar in the viewer's zone, and their upcoming and recent calls."""
    viewer = _viewer(request)
    agent, choices = _calendar_agent(request, viewer)
    zone = current_zone()
    today = timezone.localdate()
    shown_week, week_error = _week(request, zone, today)
    now = timezone.now()

    def query(target: Week) -> str:
        params: dict[str, Any] = {"week": target.param}
        if choices and agent is not None:
            params["agent"] = agent.pk
        return urlencode(params)

    context: dict[str, Any] = {
        "agent": agent,
        "agent_choices": choices,
        "is_manager": _manages(viewer),
        "week": shown_week,
        "week_end": shown_week.days[-1],
        "week_error": week_error,
        "zone_name": zone.key,
        "previous_query": query(shown_week.previous),
        "next_query": query(shown_week.next),
        "this_week_query": query(Week.containing(today, zone)),
        "is_this_week": today in shown_week.days,
    }
    if agent is not None:
        reach = CALL_LIST_REACH
        context |= {
            "days": week_days(agent=agent, week=shown_week, today=today),
            "upcoming": selectors.agent_upcoming_calls(agent=agent, now=now, within=reach),
            "recent": selectors.agent_recent_calls(agent=agent, now=now, within=reach),
        }
    return render(request, "scheduling/calendar/week.html", context)


# ---------------------------------------------------------------------------- one call


def _booking(request: HttpRequest, pk: int) -> Booking:
    """The call, if the viewer is its agent or a manager; otherwise 404."""
    return get_object_or_404(selectors.calls_visible_to(viewer=_viewer(request)), pk=pk)


def _render_call(
    request: HttpRequest,
    booking: Booking,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = _viewer(request)
    now = timezone.now()
    zone = current_zone()
    call_week = Week.containing(booking.starts_at.astimezone(zone).date(), zone)
    calendar_params: dict[str, Any] = {"week": call_week.param}
    if booking.agent_id != viewer.pk:
        calendar_params["agent"] = booking.agent_id
    context: dict[str, Any] = {
        "booking": booking,
        "zone_name": zone.key,
        "customer_zone": booking.customer.time_zone,
        "location": booking.location,
        "now": now,
        # The number (or video link) comes first while the call is near or on.
        "call_time": booking.status == BookingStatus.CONFIRMED
        and booking.starts_at - CALL_TIME_AHEAD <= now < booking.ends_at,
        "can_cancel": booking.status == BookingStatus.CONFIRMED and now < booking.ends_at,
        "can_mark": booking.status != BookingStatus.CANCELLED and now >= booking.starts_at,
        "calendar_url": f"{reverse('scheduling:calendar')}?{urlencode(calendar_params)}",
        "notes_form": NotesForm(initial={"agent_notes": booking.agent_notes}),
        "cancel_form": AgentCancelForm(),
        "mark_form": MarkForm(),
        **(bound or {}),
    }
    return render(request, "scheduling/calendar/call.html", context, status=status)


@staff_only
def call(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_call(request, _booking(request, pk))


def _apply_call_form(
    request: HttpRequest,
    pk: int,
    *,
    form: forms.Form,
    name: str,
    action: Callable[[Booking, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Validate a call form, run its service, and redirect; or show the refusal, input kept
    (`name` is the form's name in the call page's context)."""
    booking = _booking(request, pk)
    if form.is_valid():
        try:
            action(booking, form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
            booking = _booking(request, pk)  # the service may have changed the copy in memory
        else:
            messages.success(request, done)
            return redirect("scheduling:call", pk=booking.pk)
    return _render_call(request, booking, bound={name: form}, status=400)


@staff_only
@require_POST
def call_notes(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = _viewer(request)
    return _apply_call_form(
        request,
        pk,
        form=NotesForm(request.POST),
        name="notes_form",
        action=lambda booking, data: bookings.booking_set_notes(
            booking=booking, notes=str(data["agent_notes"]), by=viewer
        ),
        done=_("Notes saved."),
    )


@staff_only
@require_POST
def call_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = _viewer(request)
    return _apply_call_form(
        request,
        pk,
        form=AgentCancelForm(request.POST),
        name="cancel_form",
        action=lambda booking, data: bookings.booking_cancel_by_agent(
            booking=booking, by=viewer, message=str(data["cancel_message"])
        ),
        done=_("The call is cancelled; the customer has been told why."),
    )


@staff_only
@require_POST
def call_mark(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = _viewer(request)
    return _apply_call_form(
        request,
        pk,
        form=MarkForm(request.POST),
        name="mark_form",
        action=lambda booking, data: bookings.booking_mark(
            booking=booking, status=str(data["status"]), by=viewer
        ),
        done=_("The call's outcome is saved."),
    )
