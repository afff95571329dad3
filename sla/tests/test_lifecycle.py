"""SLA targets through a ticket's life: clock start, answers, pauses, reopenings, severity changes.

All instants fall in the week of Thu 2026-11-12 .. Wed 2026-11-18 (CET, UTC+1); the seed table
and its DST weeks are in test_seed_table.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone, translation

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Company
from accounts.tests.factories import AgentFactory, CompanyFactory, CustomerFactory, vip_company
from desk.models import Holiday
from sla.models import Clock, SlaPolicy, SlaTarget, TargetKind, TargetState
from sla.services import sla_scan
from tickets import services as ticket_services
from tickets.models import Channel, Severity, Status, Ticket, TicketMessage
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
FIRST = TargetKind.FIRST_RESPONSE
FOLLOW = TargetKind.FOLLOW_UP


def nov(d: int, h: int = 0, mi: int = 0) -> datetime:
    """Berlin wall-clock time in November 2026 (CET)."""
    return datetime(2026, 11, d, h, mi, tzinfo=BERLIN)


def nov_utc(d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(2026, 11, d, h, mi, tzinfo=UTC)


@pytest.fixture
def agent():
    return AgentFactory()


@pytest.fixture(scope="module")
def vip(django_db_setup, django_db_blocker) -> Iterator[Company]:
    """One VIP company shared by the module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield vip_company()
        transaction.set_rollback(True)


@pytest.fixture
def vip_ticket(vip) -> Callable[..., Ticket]:
    def open_(
        severity: int = Severity.STANDARD, *, at: datetime | None, channel=Channel.WEB
    ) -> Ticket:
        customer = CustomerFactory(company=vip)
        return make_ticket(requester=customer, severity=severity, channel=channel, at=at)

    return open_


def targets(ticket: Ticket, kind: TargetKind) -> list[SlaTarget]:
    return list(SlaTarget.objects.filter(ticket=ticket, kind=kind).order_by("pk"))


def running(ticket: Ticket, kind: TargetKind) -> SlaTarget:
    (target,) = SlaTarget.objects.filter(ticket=ticket, kind=kind, state=TargetState.ACTIVE)
    return target


def states(ticket: Ticket, kind: TargetKind) -> list[str]:
    return [target.state for target in targets(ticket, kind)]


def reply(ticket: Ticket, author, at: datetime, **kwargs) -> TicketMessage:
    return ticket_services.ticket_reply(
        ticket=ticket, author=author, body="An update.", at=at, **kwargs
    )


def customer_reply(ticket: Ticket, at: datetime) -> TicketMessage:
    return reply(ticket, ticket.requester, at)


def set_severity(ticket: Ticket, severity: int, at: datetime, actor=None) -> Ticket:
    return ticket_services.ticket_change_severity(
        ticket=ticket, severity=severity, reason="Re-assessed.", actor=actor, at=at
    )


# ------------------------------------------------------------------------------ clock start


def test_email_received_during_business_hours_starts_the_clock_at_once(vip_ticket):
    ticket = vip_ticket(at=nov(13, 10), channel=Channel.EMAIL)

    target = running(ticket, FIRST)
    assert (target.started_at, target.due_at) == (nov_utc(13, 9), nov_utc(13, 11))


def test_email_received_at_closing_time_waits_for_the_next_opening(vip_ticket):
    ticket = vip_ticket(at=nov(13, 17), channel=Channel.EMAIL)

    target = running(ticket, FIRST)
    assert (target.received_at, target.started_at) == (nov_utc(13, 16), nov_utc(16, 8))
    assert target.due_at == nov_utc(16, 10)


def test_email_received_a_minute_before_closing_starts_the_clock_at_once(vip_ticket):
    ticket = vip_ticket(at=nov(13, 16, 59), channel=Channel.EMAIL)

    target = running(ticket, FIRST)
    assert (target.started_at, target.due_at) == (nov_utc(13, 15, 59), nov_utc(16, 9, 59))


def test_portal_ticket_opened_at_night_starts_its_clock_at_creation(vip_ticket):
    ticket = vip_ticket(at=nov(14, 3))

    ticket.refresh_from_db()
    assert ticket.sla_clock_started_at == ticket.created_at == nov_utc(14, 2)
    assert running(ticket, FIRST).due_at == nov_utc(16, 10)


def test_a_holiday_on_the_support_calendar_moves_the_clock_start_and_the_deadline(vip_ticket):
    calendar = SlaPolicy.objects.get(code=SlaPolicy.VIP).calendar
    Holiday.objects.create(calendar=calendar, date=date(2026, 11, 16), name="Closed")

    ticket = vip_ticket(at=nov(13, 18, 30), channel=Channel.EMAIL)

    target = running(ticket, FIRST)
    assert (target.started_at, target.due_at) == (nov_utc(17, 8), nov_utc(17, 10))


# ----------------------------------------------------------------------------- first response


def test_first_public_staff_reply_meets_the_first_response_with_business_time_taken(
    vip_ticket, agent
):
    with time_machine.travel(nov(13, 16, 30), tick=False):
        ticket = vip_ticket(at=None)
    with time_machine.travel(nov(16, 9, 45), tick=False):
        ticket_services.ticket_reply(ticket=ticket, author=agent, body="On it.")

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.fulfilled_at) == (TargetState.FULFILLED, nov_utc(16, 8, 45))
    assert target.time_taken == timedelta(hours=1, minutes=15)


def test_calendar_clock_first_response_counts_every_minute_as_time_taken(vip_ticket, agent):
    ticket = vip_ticket(Severity.CRITICAL, at=nov(13, 16, 30))

    reply(ticket, agent, nov(13, 17, 10))

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.time_taken) == (TargetState.FULFILLED, timedelta(minutes=40))


def test_internal_note_never_meets_the_first_response(vip_ticket, agent):
    ticket = vip_ticket(at=nov(13, 16, 30))

    ticket_services.ticket_add_note(
        ticket=ticket, author=agent, body="Checking.", at=nov(13, 16, 40)
    )

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.fulfilled_at, target.time_taken) == (
        TargetState.ACTIVE,
        None,
        None,
    )
    reply(ticket, agent, nov(16, 9))
    target.refresh_from_db()
    assert (target.fulfilled_at, target.time_taken) == (nov_utc(16, 8), timedelta(minutes=30))


def test_customer_reply_never_meets_the_first_response(vip_ticket):
    ticket = vip_ticket(at=nov(13, 16, 30))

    customer_reply(ticket, nov(13, 16, 45))

    assert states(ticket, FIRST) == [TargetState.ACTIVE]
    assert targets(ticket, FOLLOW) == []


def test_email_answered_before_its_clock_starts_is_met_with_no_time_taken(vip_ticket, agent):
    ticket = vip_ticket(at=nov(14, 10), channel=Channel.EMAIL)

    reply(ticket, agent, nov(14, 11))

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.time_taken) == (TargetState.FULFILLED, timedelta(0))


def test_answer_after_a_recorded_breach_keeps_the_breach_and_stores_the_time_taken(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(13, 10))
    sla_scan(now=nov(13, 12, 5))

    reply(ticket, agent, nov(13, 13))

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.breached_at) == (TargetState.BREACHED, nov_utc(13, 11))
    assert (target.fulfilled_at, target.time_taken) == (nov_utc(13, 12), 3 * HOUR)
    assert running(ticket, FOLLOW).started_at == nov_utc(13, 12)


def test_staff_reply_that_solves_the_ticket_meets_the_first_response_and_starts_no_follow_up(
    vip_ticket,
    agent,
):
    ticket = vip_ticket(at=nov(13, 10))

    reply(ticket, agent, nov(13, 10, 30), new_status=Status.SOLVED)

    assert states(ticket, FIRST) == [TargetState.FULFILLED]
    assert targets(ticket, FOLLOW) == []


# ---------------------------------------------------------------------------------- follow-up


def test_each_staff_reply_meets_the_running_follow_up_and_starts_the_next_from_itself(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))

    reply(ticket, agent, nov(13, 11))

    first, second = targets(ticket, FOLLOW)
    assert (first.state, first.fulfilled_at) == (TargetState.FULFILLED, nov_utc(13, 10))
    assert first.time_taken == 4 * HOUR
    assert (second.state, second.started_at) == (TargetState.ACTIVE, nov_utc(13, 10))
    assert second.due_at == nov_utc(17, 10)


def test_customer_reply_and_internal_note_leave_the_running_follow_up_alone(vip_ticket, agent):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))

    customer_reply(ticket, nov(13, 10))
    ticket_services.ticket_add_note(ticket=ticket, author=agent, body="Hm.", at=nov(13, 11))

    (target,) = targets(ticket, FOLLOW)
    assert (target.state, target.started_at, target.due_at) == (
        TargetState.ACTIVE,
        nov_utc(12, 14),
        nov_utc(16, 14),
    )


def test_waiting_on_customer_stops_the_follow_up_and_the_customer_reply_starts_a_new_one(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.WAITING, actor=agent, at=nov(12, 16)
    )
    (paused,) = targets(ticket, FOLLOW)
    assert (paused.state, paused.cancelled_at) == (TargetState.CANCELLED, nov_utc(12, 15))

    customer_reply(ticket, nov(13, 10))

    resumed = running(ticket, FOLLOW)
    assert (resumed.received_at, resumed.started_at) == (nov_utc(13, 9), nov_utc(13, 9))
    assert resumed.due_at == nov_utc(17, 9)


def test_staff_reply_asking_the_customer_starts_no_follow_up_until_the_customer_answers(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(12, 14))

    reply(ticket, agent, nov(12, 15), new_status=Status.WAITING)
    assert (states(ticket, FIRST), targets(ticket, FOLLOW)) == ([TargetState.FULFILLED], [])

    customer_reply(ticket, nov(16, 10))

    target = running(ticket, FOLLOW)
    assert (target.started_at, target.due_at) == (nov_utc(16, 9), nov_utc(18, 9))


def test_solving_stops_the_follow_up_and_reopening_starts_a_new_one_from_the_reopening(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))
    customer = ticket.requester

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.SOLVED, actor=customer, at=nov(13, 10)
    )
    assert states(ticket, FOLLOW) == [TargetState.CANCELLED]

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.OPEN, actor=customer, at=nov(13, 12)
    )

    assert states(ticket, FOLLOW) == [TargetState.CANCELLED, TargetState.ACTIVE]
    target = running(ticket, FOLLOW)
    assert (target.started_at, target.due_at) == (nov_utc(13, 11), nov_utc(17, 11))
    assert states(ticket, FIRST) == [TargetState.FULFILLED]


def test_staff_reply_that_reopens_a_waiting_ticket_starts_one_follow_up_from_the_reply(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15), new_status=Status.WAITING)

    reply(ticket, agent, nov(13, 10), new_status=Status.OPEN)

    target = running(ticket, FOLLOW)
    assert (target.started_at, target.due_at) == (nov_utc(13, 9), nov_utc(17, 9))
    assert len(targets(ticket, FOLLOW)) == 1


def test_solving_a_waiting_ticket_stops_its_unanswered_first_response(vip_ticket, agent):
    ticket = vip_ticket(Severity.CRITICAL, at=nov(13, 10))
    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.WAITING, actor=agent, at=nov(13, 10, 10)
    )
    assert states(ticket, FIRST) == [TargetState.ACTIVE]

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.SOLVED, actor=ticket.requester, at=nov(13, 10, 20)
    )

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.cancelled_at) == (TargetState.CANCELLED, nov_utc(13, 9, 20))
    assert sla_scan(now=nov(13, 12)).breached == 0


def test_closing_an_open_ticket_stops_every_running_target(vip_ticket, agent):
    ticket = vip_ticket(at=nov(13, 10))

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.CLOSED, actor=agent, at=nov(13, 10, 30)
    )

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.cancelled_at) == (TargetState.CANCELLED, nov_utc(13, 9, 30))


def test_solving_before_any_staff_reply_stops_the_first_response_and_reopening_restarts_it(
    vip_ticket,
):
    ticket = vip_ticket(at=nov(13, 10))
    customer = ticket.requester

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.SOLVED, actor=customer, at=nov(13, 11)
    )
    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.OPEN, actor=customer, at=nov(16, 10)
    )

    assert states(ticket, FIRST) == [TargetState.CANCELLED, TargetState.ACTIVE]
    target = running(ticket, FIRST)
    assert (target.started_at, target.due_at) == (nov_utc(16, 9), nov_utc(16, 11))
    assert targets(ticket, FOLLOW) == []


def test_reopening_after_an_unanswered_first_response_breach_opens_no_second_first_response(
    vip_ticket,
    agent,
):
    ticket = vip_ticket(at=nov(13, 10))
    sla_scan(now=nov(13, 12, 5))
    customer = ticket.requester
    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.SOLVED, actor=customer, at=nov(13, 13)
    )

    ticket_services.ticket_set_status(
        ticket=ticket, status=Status.OPEN, actor=customer, at=nov(13, 14)
    )
    reply(ticket, agent, nov(13, 15))

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.fulfilled_at) == (TargetState.BREACHED, nov_utc(13, 14))
    assert running(ticket, FOLLOW).started_at == nov_utc(13, 14)


# ---------------------------------------------------------------------------- severity change


def test_raising_severity_recomputes_the_running_first_response_from_its_own_start(
    vip_ticket, agent
):
    ticket = vip_ticket(at=nov(13, 10))

    set_severity(ticket, Severity.CRITICAL, nov(13, 10, 20), actor=agent)

    target = running(ticket, FIRST)
    assert (target.severity, target.target, target.clock) == (1, HOUR, Clock.CALENDAR)
    assert (target.started_at, target.warn_at, target.due_at) == (
        nov_utc(13, 9),
        nov_utc(13, 9, 48),
        nov_utc(13, 10),
    )


def test_lowering_severity_recomputes_the_running_first_response_from_its_own_start(
    vip_ticket, agent
):
    ticket = vip_ticket(Severity.CRITICAL, at=nov(13, 16, 30))

    set_severity(ticket, Severity.BUG, nov(13, 16, 45), actor=agent)

    target = running(ticket, FIRST)
    assert (target.severity, target.target, target.clock) == (4, 8 * HOUR, Clock.BUSINESS)
    assert (target.started_at, target.due_at) == (nov_utc(13, 15, 30), nov_utc(16, 15, 30))


def test_severity_up_then_down_returns_to_the_original_deadline(vip_ticket, agent):
    ticket = vip_ticket(at=nov(13, 16, 30))

    set_severity(ticket, Severity.HIGH, nov(13, 16, 35))
    assert running(ticket, FIRST).due_at == nov_utc(13, 16, 30)
    set_severity(ticket, Severity.STANDARD, nov(13, 16, 40))

    assert running(ticket, FIRST).due_at == nov_utc(16, 9, 30)
    assert len(targets(ticket, FIRST)) == 1


def test_raising_severity_recomputes_the_running_follow_up_from_its_own_start(vip_ticket, agent):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))

    set_severity(ticket, Severity.HIGH, nov(12, 16))

    target = running(ticket, FOLLOW)
    assert (target.severity, target.target, target.clock) == (2, 4 * HOUR, Clock.CALENDAR)
    assert (target.started_at, target.due_at) == (nov_utc(12, 14), nov_utc(12, 18))


def test_lowering_to_a_severity_without_follow_up_stops_the_follow_up(vip_ticket, agent):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))

    set_severity(ticket, Severity.BUG, nov(12, 16))

    (target,) = targets(ticket, FOLLOW)
    assert (target.state, target.cancelled_at) == (TargetState.CANCELLED, nov_utc(12, 15))


def test_raising_to_a_severity_with_follow_up_counts_from_the_last_staff_public_reply(
    vip_ticket, agent
):
    ticket = vip_ticket(Severity.BUG, at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))
    TicketMessage.objects.create(
        ticket=ticket,
        author=agent,
        body="We received your message.",
        is_automatic=True,
        created_at=nov(13, 9, 30),
    )
    ticket_services.ticket_add_note(ticket=ticket, author=agent, body="Hm.", at=nov(13, 10))
    customer_reply(ticket, nov(13, 11))

    set_severity(ticket, Severity.STANDARD, nov(13, 14))

    target = running(ticket, FOLLOW)
    assert (target.severity, target.started_at, target.due_at) == (
        3,
        nov_utc(12, 14),
        nov_utc(16, 14),
    )


def test_raising_to_a_severity_with_follow_up_counts_from_the_last_reopening(vip_ticket, agent):
    ticket = vip_ticket(Severity.BUG, at=nov(12, 14))
    reply(ticket, agent, nov(12, 15), new_status=Status.WAITING)
    customer_reply(ticket, nov(13, 10))
    assert targets(ticket, FOLLOW) == []

    set_severity(ticket, Severity.STANDARD, nov(13, 14))

    target = running(ticket, FOLLOW)
    assert (target.started_at, target.due_at) == (nov_utc(13, 9), nov_utc(17, 9))


def test_raising_severity_before_the_first_response_starts_no_follow_up(vip_ticket):
    ticket = vip_ticket(Severity.BUG, at=nov(13, 10))

    set_severity(ticket, Severity.STANDARD, nov(13, 10, 30))

    assert targets(ticket, FOLLOW) == []
    assert running(ticket, FIRST).due_at == nov_utc(13, 11)


def test_raising_severity_while_waiting_on_the_customer_starts_no_follow_up(vip_ticket, agent):
    ticket = vip_ticket(Severity.BUG, at=nov(12, 14))
    reply(ticket, agent, nov(12, 15), new_status=Status.WAITING)

    set_severity(ticket, Severity.STANDARD, nov(13, 14))

    assert targets(ticket, FOLLOW) == []


def test_a_raise_after_the_deadline_from_the_start_runs_from_the_raise(vip_ticket, agent):
    from sla.explain import target_explanation
    from tickets.models import Escalation, EventKind, TicketEvent

    # Sev 4 opened on Saturday 03:00; raised to Sev 2 (1 hour, around the clock) Monday 09:30.
    ticket = vip_ticket(Severity.BUG, at=nov(14, 3))
    set_severity(ticket, Severity.HIGH, nov(16, 9, 30), actor=agent)

    target = running(ticket, FIRST)
    assert (target.started_at, target.rebased_at) == (nov(14, 3), nov(16, 9, 30))
    assert (target.warn_at, target.due_at) == (nov(16, 10, 18), nov(16, 10, 30))
    with timezone.override(BERLIN), translation.override("en"):
        assert target_explanation(target) == (
            "Severity changed Mon 09:30, when the time counted from Sat 03:00 had already run "
            "out; 1 hour from the change → due Mon 10:30"
        )

    assert sla_scan(now=nov(16, 10, 29)).breached == 0
    assert sla_scan(now=nov(16, 10, 31)).breached == 1
    target.refresh_from_db()
    assert target.breached_at == nov(16, 10, 30)
    assert Escalation.objects.get(ticket=ticket).created_at == nov(16, 10, 30)
    change = nov(16, 9, 30)
    sla_events = TicketEvent.objects.filter(
        ticket=ticket, kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.ESCALATED]
    )
    assert sla_events.count() == 3
    assert all(event.created_at >= change for event in sla_events)


def test_a_warning_already_due_at_a_change_is_dated_at_the_change(vip_ticket):
    from tickets.models import EventKind, TicketEvent

    # Sev 5 (1 business day) opened Monday 09:00, raised to Sev 3 (2 business hours) at 10:45:
    # due 11:00 from the start still, but its warning (10:36) would already have passed.
    ticket = vip_ticket(Severity.REQUEST, at=nov(16, 9))
    set_severity(ticket, Severity.STANDARD, nov(16, 10, 45))

    target = running(ticket, FIRST)
    assert (target.rebased_at, target.warn_at, target.due_at) == (
        None,
        nov(16, 10, 45),
        nov(16, 11),
    )
    assert sla_scan(now=nov(16, 10, 50)).warned == 1
    assert TicketEvent.objects.get(ticket=ticket, kind=EventKind.SLA_WARNING).created_at == nov(
        16, 10, 45
    )


def test_breach_recorded_before_a_severity_change_stays_recorded(vip_ticket, agent):
    ticket = vip_ticket(Severity.CRITICAL, at=nov(13, 10))
    sla_scan(now=nov(13, 11, 1))

    set_severity(ticket, Severity.BUG, nov(13, 11, 30))

    (target,) = targets(ticket, FIRST)
    assert (target.state, target.severity, target.target) == (TargetState.BREACHED, 1, HOUR)
    assert (target.due_at, target.breached_at) == (nov_utc(13, 10), nov_utc(13, 10))


def test_follow_up_breach_is_not_recorded_again_after_raising_severity(vip_ticket, agent):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))
    sla_scan(now=nov(16, 16))

    set_severity(ticket, Severity.CRITICAL, nov(16, 17))
    sla_scan(now=nov(16, 17, 1))

    assert states(ticket, FOLLOW) == [TargetState.BREACHED]


# ------------------------------------------------------------------------- warnings, policies


def test_scan_warns_at_80_percent_of_the_target_and_not_before(vip_ticket):
    ticket = vip_ticket(at=nov(13, 16, 30))
    target = running(ticket, FIRST)
    assert target.warn_at == nov_utc(16, 9, 6)

    assert sla_scan(now=target.warn_at - timedelta(seconds=1)).warned == 0
    assert sla_scan(now=target.warn_at).warned == 1

    target.refresh_from_db()
    assert (target.state, target.warned_at) == (TargetState.ACTIVE, nov_utc(16, 9, 6))


def test_editing_a_policy_later_never_rewrites_existing_targets(vip_ticket, agent):
    ticket = vip_ticket(at=nov(12, 14))
    reply(ticket, agent, nov(12, 15))
    first_response, follow_up = targets(ticket, FIRST)[0], running(ticket, FOLLOW)

    rule = SlaPolicy.objects.get(code=SlaPolicy.VIP).targets.get(severity=Severity.STANDARD)
    rule.first_response, rule.first_response_clock = 4 * HOUR, Clock.CALENDAR
    rule.follow_up, rule.follow_up_clock = HOUR, Clock.CALENDAR
    rule.save()
    reply(ticket, agent, nov(13, 11))

    answered, following = targets(ticket, FOLLOW)
    assert (answered.pk, answered.target, answered.clock, answered.due_at) == (
        follow_up.pk,
        16 * HOUR,
        Clock.BUSINESS,
        follow_up.due_at,
    )
    assert answered.time_taken == 4 * HOUR
    assert (following.target, following.clock, following.due_at) == (
        HOUR,
        Clock.CALENDAR,
        nov_utc(13, 11),
    )
    (answered_first,) = targets(ticket, FIRST)
    assert (answered_first.pk, answered_first.target, answered_first.due_at) == (
        first_response.pk,
        2 * HOUR,
        nov_utc(12, 15),
    )


def test_a_ticket_keeps_the_policy_it_opened_under_when_the_add_on_ends(vip_ticket, agent):
    ticket = vip_ticket(at=nov(12, 14))
    subscription = account_selectors.company_active_addon(company=ticket.company)
    account_services.addon_end(subscription=subscription)
    assert account_selectors.company_active_addon(company=ticket.company) is None

    reply(ticket, agent, nov(12, 15))

    target = running(ticket, FOLLOW)
    assert (target.policy.code, target.due_at) == (SlaPolicy.VIP, nov_utc(16, 14))


def test_standard_customer_gets_the_standard_policy_with_no_follow_up(agent):
    customer = CustomerFactory(company=CompanyFactory())
    ticket = make_ticket(requester=customer, severity=Severity.CRITICAL, at=nov(13, 16, 30))

    reply(ticket, agent, nov(16, 9, 45))

    (target,) = ticket.sla_targets.all()
    assert (target.policy.code, target.due_at) == (SlaPolicy.STANDARD, nov_utc(16, 15, 30))
    assert (target.state, target.time_taken) == (
        TargetState.FULFILLED,
        timedelta(hours=1, minutes=15),
    )
