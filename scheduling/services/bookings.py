"""Booking, moving, cancelling and marking calls; one transaction each, and the rules they keep.

No double booking, ever. A booking holds its agent's time from `blocked_from` to `blocked_until`
(the call widened by its buffers) while it is confirmed, and two such ranges of one agent never
overlap:

- on PostgreSQL the exclusion constraint `BOOKING_NO_OVERLAP` makes an overlapping row impossible;
  the services check the slot, insert, and turn the constraint's violation into `SlotTaken`;
- on SQLite (the development default) each booking write first takes the database's write lock
  (`vipsupport.write_lock.sqlite_write_lock`) and then re-checks the slot, so no other writer can
  slip in between.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from phonenumber_field.phonenumber import PhoneNumber, to_python

from accounts.models import Company, User
from accounts.permissions import MANAGING_ROLES
from accounts.selectors import company_active_addon, desk_date
from scheduling import emails, slots
from scheduling.models import (
    BOOKING_NO_OVERLAP,
    AgentSchedule,
    Booking,
    BookingStatus,
    CallType,
)
from scheduling.selectors import AgentCalendar, agent_calendar, company_call_agent
from scheduling.services.availability import agent_schedule_get_or_create
from scheduling.signals import BookingChange, BookingChangeKind, announce_booking
from vipsupport.write_lock import sqlite_write_lock

NEAREST_SLOTS = 3
NOT_A_NUMBER = gettext_lazy(
    "This is not a phone number we can call; give it with the country code, e.g. +359 88 123 4567."
)
_EXCLUSION_VIOLATION = "23P01"  # PostgreSQL's SQLSTATE for exclusion_violation


class SlotTaken(ValidationError):
    """The asked time is no longer free; `nearest` holds the closest free starts (UTC)."""

    def __init__(self, *, nearest: list[datetime.datetime]) -> None:
        super().__init__(
            _("That time was just taken. Please pick another time."), code="slot_taken"
        )
        self.nearest = nearest


@dataclass(frozen=True)
class CallTerms:
    """The rules one booking is checked against: its length and buffers, the type's limits."""

    duration: datetime.timedelta
    buffer_before: datetime.timedelta
    buffer_after: datetime.timedelta
    minimum_notice: datetime.timedelta
    horizon: datetime.timedelta
    step: datetime.timedelta

    @classmethod
    def of(cls, call_type: CallType, booking: Booking | None = None) -> CallTerms:
        """The type's terms; a booking keeps the length and buffers it was booked with."""
        return cls(
            duration=booking.duration if booking else call_type.duration,
            buffer_before=booking.buffer_before if booking else call_type.buffer_before,
            buffer_after=booking.buffer_after if booking else call_type.buffer_after,
            minimum_notice=call_type.minimum_notice,
            horizon=call_type.horizon,
            step=call_type.step,
        )


# ---------------------------------------------------------------------------- bookings


def booking_create(
    *,
    customer: User,
    agent: User,
    call_type: CallType,
    starts_at: datetime.datetime,
    topic: str,
    phone_number: PhoneNumber | str = "",
    ticket: models.Model | None = None,
    now: datetime.datetime | None = None,
) -> Booking:
    """Book a call with the company's agent at a free slot; `SlotTaken` if it went meanwhile.

    `phone_number` is the number the agent calls (a typed number is read as one of
    `PHONENUMBER_DEFAULT_REGION` unless it starts with +country code); required unless the call
    type has a video link, and not kept for such a type: its meeting is where the call happens.
    """
    now = now or timezone.now()
    _require_aware(starts_at)
    company = _require_vip_customer(customer, now=now, starts_at=starts_at)
    if not call_type.active:
        raise ValidationError({"call_type": _("This type of call is no longer offered.")})
    terms = CallTerms.of(call_type)
    _require_call_agent(company, agent, starts_at, starts_at + terms.duration)
    _require_company_ticket(ticket, company)
    booking = Booking(
        agent=agent,
        company=company,
        customer=customer,
        call_type=call_type,
        ticket_id=ticket.pk if ticket is not None else None,
        topic=topic.strip(),
        phone_number=_number_to_call(call_type, phone_number),
        buffer_before=terms.buffer_before,
        buffer_after=terms.buffer_after,
        created_at=now,
        updated_at=now,
    )
    booking.place(starts_at, terms.duration, now=now)
    booking.full_clean()
    try:
        with transaction.atomic():
            sqlite_write_lock()
            schedule = agent_schedule_get_or_create(agent=agent)
            _require_free_slot(agent, terms, starts_at, now=now)
            _lock_agent_calls(schedule)
            booking.save()
            _recheck_day_limit(schedule, booking)
            _announce(booking, kind=BookingChangeKind.CREATED, now=now)
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        booking.pk = None
        raise SlotTaken(nearest=nearest_free_starts(agent, terms, starts_at, now=now)) from error
    return booking


def booking_reschedule(
    *,
    booking: Booking,
    starts_at: datetime.datetime,
    by: User,
    now: datetime.datetime | None = None,
) -> Booking:
    """Move a confirmed call (customer only, up to the minimum notice before the old and the
    new time); the iCalendar sequence goes up."""
    now = now or timezone.now()
    _require_aware(starts_at)
    try:
        with transaction.atomic():
            _lock(booking)
            _require_booker(booking, by)
            _require_confirmed(booking)
            terms = CallTerms.of(booking.call_type, booking)
            _require_notice_left(booking, terms, now=now)
            if starts_at == booking.starts_at:
                return booking
            _require_vip_customer(booking.customer, now=now, starts_at=starts_at)
            _require_call_agent(
                booking.company, booking.agent, starts_at, starts_at + terms.duration
            )
            _require_free_slot(booking.agent, terms, starts_at, now=now, exclude=booking)
            schedule = agent_schedule_get_or_create(agent=booking.agent)
            _lock_agent_calls(schedule)
            booking.place(starts_at, terms.duration, now=now)
            booking.sequence += 1
            booking.updated_at = now
            # The reminders belong to the new time.
            booking.day_reminder_sent_at = None
            booking.hour_reminder_sent_at = None
            booking.full_clean()
            booking.save()
            _recheck_day_limit(schedule, booking)
            _announce(booking, kind=BookingChangeKind.MOVED, now=now)
    except IntegrityError as error:
        booking.refresh_from_db()
        if not _is_overlap_violation(error):
            raise
        terms = CallTerms.of(booking.call_type, booking)
        nearest = nearest_free_starts(booking.agent, terms, starts_at, now=now, exclude=booking)
        raise SlotTaken(nearest=nearest) from error
    except ValidationError:
        booking.refresh_from_db()
        raise
    return booking


@transaction.atomic
def booking_cancel_by_customer(
    *, booking: Booking, by: User, message: str = "", now: datetime.datetime | None = None
) -> Booking:
    """Cancel a confirmed call as its customer, up to the minimum notice before it starts."""
    now = now or timezone.now()
    _lock(booking)
    _require_booker(booking, by)
    _require_confirmed(booking)
    _require_notice_left(booking, CallTerms.of(booking.call_type, booking), now=now)
    return _cancel(booking, by=by, message=message.strip(), now=now)


@transaction.atomic
def booking_cancel_by_agent(
    *, booking: Booking, by: User, message: str, now: datetime.datetime | None = None
) -> Booking:
    """Cancel a call that has not ended, as its agent (or a manager), telling the customer why."""
    now = now or timezone.now()
    _lock(booking)
    _require_agent_side(booking, by)
    _require_confirmed(booking)
    if not message.strip():
        raise ValidationError({"cancel_message": _("Tell the customer why the call is cancelled.")})
    if booking.ends_at <= now:
        raise ValidationError(_("This call is over; mark it completed or no-show instead."))
    return _cancel(booking, by=by, message=message.strip(), now=now)


@transaction.atomic
def booking_mark(
    *, booking: Booking, status: str, by: User, now: datetime.datetime | None = None
) -> Booking:
    """Record that a call took place or that the customer did not come (once it has started)."""
    now = now or timezone.now()
    if status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise ValidationError({"status": _("Mark a call as completed or as a no-show.")})
    _lock(booking)
    _require_agent_side(booking, by)
    if booking.status == BookingStatus.CANCELLED:
        raise ValidationError(_("This call has been cancelled."))
    if now < booking.starts_at:
        raise ValidationError(
            _("A call can be marked completed or no-show only once it has started.")
        )
    if booking.status == status:
        return booking
    booking.status = status
    booking.sequence += 1
    booking.updated_at = now
    booking.full_clean()
    booking.save(update_fields=["status", "sequence", "updated_at"])
    # The call is over: an invitation or reminder still waiting would only confuse.
    emails.call_emails_drop(booking_id=booking.pk, now=now)
    return booking


@transaction.atomic
def booking_set_notes(
    *, booking: Booking, notes: str, by: User, now: datetime.datetime | None = None
) -> Booking:
    """The agent's private notes on a call (not part of the invitation, so no new sequence)."""
    now = now or timezone.now()
    _lock(booking)
    _require_agent_side(booking, by)
    booking.agent_notes = notes.strip()
    booking.updated_at = now
    booking.full_clean()
    booking.save(update_fields=["agent_notes", "updated_at"])
    return booking


# ---------------------------------------------------------------------------- free slots


def nearest_free_starts(
    agent: User,
    terms: CallTerms,
    around: datetime.datetime,
    *,
    now: datetime.datetime,
    exclude: Booking | None = None,
    count: int = NEAREST_SLOTS,
) -> list[datetime.datetime]:
    """The `count` free starts closest to `around` (within notice and horizon), in time order."""
    free = _Window.load(agent, terms, now, exclude=exclude).free_starts()
    free.sort(key=lambda start: (abs(start - around), start))
    return sorted(free[:count])


def call_free_starts(
    *,
    agent: User,
    call_type: CallType,
    now: datetime.datetime,
    start: datetime.datetime,
    end: datetime.datetime,
    booking: Booking | None = None,
) -> list[datetime.datetime]:
    """The free starts with `agent` in [start, end): exactly those the booking services accept.
    For a booking being moved, its own time is free and its length and buffers apply."""
    terms = CallTerms.of(call_type, booking)
    if end <= now or start >= now + terms.horizon:
        return []
    free = _Window.load(agent, terms, now, exclude=booking).free_starts()
    return [moment for moment in free if start <= moment < end]


def booking_change_refusal(
    *, booking: Booking, by: User, now: datetime.datetime | None = None
) -> str | None:
    """None while `by` may still move or cancel the call; otherwise the reason the services
    would give (not the booker, not confirmed, or within the minimum notice)."""
    try:
        _require_booker(booking, by)
        _require_confirmed(booking)
        terms = CallTerms.of(booking.call_type, booking)
        _require_notice_left(booking, terms, now=now or timezone.now())
    except ValidationError as refusal:
        return " ".join(refusal.messages)
    return None


@dataclass(frozen=True)
class _Window:
    """One agent's calendar from now to the end of the booking horizon, with the call's terms."""

    calendar: AgentCalendar
    terms: CallTerms
    now: datetime.datetime

    @classmethod
    def load(
        cls,
        agent: User,
        terms: CallTerms,
        now: datetime.datetime,
        *,
        exclude: Booking | None = None,
    ) -> _Window:
        calendar = agent_calendar(
            agent=agent,
            start=now,
            end=now + terms.horizon + terms.duration,
            exclude_booking_id=exclude.pk if exclude else None,
        )
        return cls(calendar, terms, now)

    @property
    def rules(self) -> slots.CallRules:
        terms = self.terms
        return slots.CallRules(
            duration=terms.duration,
            buffer_before=terms.buffer_before,
            buffer_after=terms.buffer_after,
            minimum_notice=terms.minimum_notice,
            horizon=terms.horizon,
            step=terms.step,
            max_per_day=self.calendar.max_calls_per_day,
        )

    @property
    def earliest(self) -> datetime.datetime | None:
        """The first instant the minimum notice allows (None: it never elapses)."""
        notice = self.terms.minimum_notice
        if not notice:
            return self.now
        if not self.calendar.availability.weekly:
            return None
        return self.calendar.availability.notice_calendar().add(self.now, notice)

    def free_starts(self) -> list[datetime.datetime]:
        calendar = self.calendar
        free = slots.free_slots(
            availability=calendar.availability,
            rules=self.rules,
            bookings=calendar.booked,
            busy=calendar.busy,
            now=self.now,
        )
        return [slot.start for slot in free]

    def problem(self, start: datetime.datetime) -> str | None:
        """None when `start` is a free slot (`slots.free_slots` decides); otherwise the first
        reason found, as a code for `_refusal`."""
        if start in set(self.free_starts()):
            return None
        calendar, terms = self.calendar, self.terms
        earliest = self.earliest
        if earliest is None:
            return "not_offered"
        if start < earliest:
            return "too_soon"
        if start >= self.now + terms.horizon:
            return "too_far"
        if not self._on_grid(start):
            return "not_offered"
        end = start + terms.duration
        widened = (start - terms.buffer_before, end + terms.buffer_after)
        if any(
            _overlaps(widened, (call.start - call.buffer_before, call.end + call.buffer_after))
            for call in calendar.booked
        ):
            return "taken"
        if any(_overlaps(widened, span) for span in calendar.availability.time_off):
            return "time_off"
        if any(_overlaps(widened, (busy.start, busy.end)) for busy in calendar.busy):
            return "busy"
        if calendar.calls_on(calendar.local_date(start)) >= calendar.max_calls_per_day:
            return "day_full"
        return "not_offered"

    def _on_grid(self, start: datetime.datetime) -> bool:
        calendar, terms = self.calendar, self.terms
        for opens, closes in calendar.working_spans(calendar.local_date(start)):
            if opens <= start and start + terms.duration <= closes:
                return (start - opens) % terms.step == datetime.timedelta(0)
        return False


def _overlaps(
    first: tuple[datetime.datetime, datetime.datetime],
    second: tuple[datetime.datetime, datetime.datetime],
) -> bool:
    return first[0] < second[1] and first[1] > second[0]


def _refusal(code: str, *, agent: User, window: _Window, start: datetime.datetime) -> str:
    """The customer-facing reason behind a `_Window.problem` code."""
    terms = window.terms
    if code == "too_soon" and window.earliest is not None:
        return _(
            "That time is too soon: calls need %(notice)s of the agent's working time as "
            "notice. The earliest possible start is %(earliest)s."
        ) % {"notice": _format_duration(terms.minimum_notice), "earliest": _format(window.earliest)}
    if code == "too_far":
        days = max(1, round(terms.horizon / datetime.timedelta(days=1)))
        return ngettext(
            "Calls can be booked at most %(days)d day ahead.",
            "Calls can be booked at most %(days)d days ahead.",
            days,
        ) % {"days": days}
    if code == "time_off":
        return _("%(agent)s is away at that time.") % {"agent": agent}
    if code == "busy":
        return _("%(agent)s is busy at that time.") % {"agent": agent}
    if code == "day_full":
        return _day_full(agent, window.calendar.local_date(start))
    return _(
        "%(agent)s does not take calls at that time; please pick one of the offered times."
    ) % {"agent": agent}


def _day_full(agent: User, day: datetime.date) -> str:
    return _("%(agent)s has no more room for calls on %(date)s.") % {
        "agent": agent,
        "date": formats.date_format(day, "DATE_FORMAT"),
    }


def _require_free_slot(
    agent: User,
    terms: CallTerms,
    starts_at: datetime.datetime,
    *,
    now: datetime.datetime,
    exclude: Booking | None = None,
) -> None:
    window = _Window.load(agent, terms, now, exclude=exclude)
    code = window.problem(starts_at)
    if code is None:
        return
    if code == "taken":
        raise SlotTaken(
            nearest=nearest_free_starts(agent, terms, starts_at, now=now, exclude=exclude)
        )
    message = _refusal(code, agent=agent, window=window, start=starts_at)
    raise ValidationError({"starts_at": ValidationError(message, code=code)})


# ---------------------------------------------------------------------------- concurrency


def _lock(booking: Booking) -> None:
    """Lock the booking's row (on SQLite, the database) and read it afresh before changing it."""
    sqlite_write_lock()
    booking.refresh_from_db(from_queryset=Booking.objects.select_for_update())


def _lock_agent_calls(schedule: AgentSchedule) -> None:
    """Take the agent's schedule row lock before writing a call's time (after the checks).

    Writers of one agent's calls then reach the exclusion constraint one at a time, so a loser
    finds the winner's committed row and gets `SlotTaken`. Without it, two overlapping inserts can
    each wait for the other's constraint check, and PostgreSQL aborts one as a deadlock.
    """
    AgentSchedule.objects.select_for_update().filter(pk=schedule.pk).first()


def _recheck_day_limit(schedule: AgentSchedule, booking: Booking) -> None:
    """After writing the booking, re-count the agent's calls that day under the schedule's lock.

    The constraint only forbids overlaps; two bookings at different times of one day could both
    pass the earlier count. Whoever locks the schedule second counts after the first committed
    (READ COMMITTED reads afresh per statement) and, over the limit, rolls its own booking back.
    """
    locked = AgentSchedule.objects.select_for_update().get(pk=schedule.pk)
    zone = ZoneInfo(locked.time_zone)
    day = booking.starts_at.astimezone(zone).date()
    midnight = datetime.datetime.combine(day, datetime.time(0), zone)
    next_day = day + datetime.timedelta(days=1)
    next_midnight = datetime.datetime.combine(next_day, datetime.time(0), zone)
    # Completed and no-show calls took place that day too; only cancelled ones do not count.
    calls = (
        Booking.objects.filter(
            agent_id=booking.agent_id, starts_at__gte=midnight, starts_at__lt=next_midnight
        )
        .exclude(status=BookingStatus.CANCELLED)
        .count()
    )
    if calls > locked.max_calls_per_day:
        message = _day_full(booking.agent, day)
        raise ValidationError({"starts_at": ValidationError(message, code="day_full")})


def _is_overlap_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if getattr(diag, "constraint_name", None) == BOOKING_NO_OVERLAP:
        return True
    return getattr(cause, "sqlstate", None) == _EXCLUSION_VIOLATION and BOOKING_NO_OVERLAP in str(
        cause
    )


# ---------------------------------------------------------------------------- rules


def _require_aware(starts_at: datetime.datetime) -> None:
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")


def _require_vip_customer(
    customer: User, *, now: datetime.datetime, starts_at: datetime.datetime
) -> Company:
    company = customer.company
    if company is None or customer.has_agent_profile:
        raise ValidationError(_("Only members of a customer company can book calls."))
    for day in (desk_date(now), desk_date(starts_at)):
        if company_active_addon(company=company, on=day) is None:
            raise ValidationError(
                _(
                    "Calls with your agent come with the dedicated-agent add-on, which "
                    "%(company)s does not have on %(date)s."
                )
                % {"company": company, "date": formats.date_format(day, "DATE_FORMAT")}
            )
    return company


def _require_call_agent(
    company: Company, agent: User, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> None:
    expected = company_call_agent(company=company, starts_at=starts_at, ends_at=ends_at)
    if expected is None:
        raise ValidationError(
            {"agent": _("Neither your dedicated agent nor the backup agent is available then.")}
        )
    if expected.pk != agent.pk:
        raise ValidationError(
            {"agent": _("At that time your calls are with %(agent)s.") % {"agent": expected}}
        )


def _number_to_call(call_type: CallType, phone_number: PhoneNumber | str) -> PhoneNumber | str:
    """The number the agent will dial, or "" for a call type that meets by video."""
    if call_type.video_url:
        return ""
    number = to_python(phone_number.strip() if isinstance(phone_number, str) else phone_number)
    if not number:
        refusal = ValidationError(_("Give the number your agent should call."), code="required")
    elif not number.is_valid():
        refusal = ValidationError(NOT_A_NUMBER, code="invalid")
    else:
        return number
    raise ValidationError({"phone_number": refusal})


def _require_company_ticket(ticket: models.Model | None, company: Company) -> None:
    if ticket is None:
        return
    ticket_model = Booking._meta.get_field("ticket").related_model
    if not isinstance(ticket, ticket_model) or getattr(ticket, "company_id", None) != company.pk:
        raise ValidationError({"ticket": _("Pick one of your company's tickets.")})


def _require_booker(booking: Booking, by: User) -> None:
    if by.pk != booking.customer_id:
        raise ValidationError(_("Only the customer who booked this call can change it."))


def _require_agent_side(booking: Booking, by: User) -> None:
    if by.pk != booking.agent_id and by.role not in MANAGING_ROLES:
        raise ValidationError(_("Only the call's agent or a manager can do this."))


def _require_confirmed(booking: Booking) -> None:
    if booking.status == BookingStatus.CANCELLED:
        raise ValidationError(_("This call has been cancelled."))
    if booking.status != BookingStatus.CONFIRMED:
        raise ValidationError(_("This call is over and can no longer be changed."))


def _require_notice_left(booking: Booking, terms: CallTerms, *, now: datetime.datetime) -> None:
    earliest = _Window.load(booking.agent, terms, now, exclude=booking).earliest
    if earliest is None:  # the agent has no weekly hours left: count the notice in clock time
        earliest = now + terms.minimum_notice
    if booking.starts_at < earliest:
        raise ValidationError(
            _(
                "Calls can be changed or cancelled only up to %(notice)s of working time before "
                "they start; please contact %(agent)s."
            )
            % {"notice": _format_duration(terms.minimum_notice), "agent": booking.agent}
        )


def _cancel(booking: Booking, *, by: User, message: str, now: datetime.datetime) -> Booking:
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_by = by
    booking.cancelled_at = now
    booking.cancel_message = message
    booking.sequence += 1
    booking.updated_at = now
    booking.full_clean()
    booking.save(
        update_fields=[
            "status",
            "cancelled_by",
            "cancelled_at",
            "cancel_message",
            "sequence",
            "updated_at",
        ]
    )
    _announce(booking, kind=BookingChangeKind.CANCELLED, now=now)
    return booking


def _announce(booking: Booking, *, kind: BookingChangeKind, now: datetime.datetime) -> None:
    """Write this version's invitation (the customer's REQUEST or CANCEL, the agent's PUBLISH) to
    the outbox, in place of whatever the older version still had waiting there, and tell other
    apps (`scheduling.signals.booking_changed`)."""
    # The older version's invitation and reminders speak of a time or status that no longer holds.
    emails.call_emails_drop(booking_id=booking.pk, now=now)
    emails.call_emails_queue(booking=booking, kind=emails.CallEmailKind.INVITATION, now=now)
    announce_booking(BookingChange(kind, booking, now))


# ---------------------------------------------------------------------------- formatting


def _format(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _format_duration(value: datetime.timedelta) -> str:
    minutes = int(value.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    values: dict[str, Any] = {"hours": hours, "minutes": minutes}
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % values
    if hours:
        return _("%(hours)d h") % values
    return _("%(minutes)d min") % values
