"""Ticket service rules: validation, the append-only audit trail, notes, statuses, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Tier
from accounts.tests.factories import (
    AgentFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
    vip_company,
)
from tickets import services
from tickets.models import (
    Channel,
    Escalation,
    EscalationSource,
    EventKind,
    Notification,
    NotificationKind,
    Severity,
    Status,
    Ticket,
    TicketEvent,
    Visibility,
)
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def agent():
    return AgentFactory()


@pytest.fixture
def ticket():
    return make_ticket(at=T0)


def vip_ticket() -> Ticket:
    return make_ticket(requester=CustomerFactory(company=vip_company()), at=T0)


def events(ticket: Ticket) -> list[tuple[str, dict]]:
    return [(event.kind, event.data) for event in TicketEvent.objects.filter(ticket=ticket)]


def status_of(ticket: Ticket) -> str:
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def set_status(ticket: Ticket, status: Status, actor, at: datetime = T0 + MINUTE) -> Ticket:
    return services.ticket_set_status(ticket=ticket, status=status, actor=actor, at=at)


# ---------------------------------------------------------------------------------- creation


def test_a_staff_member_cannot_be_the_requester_of_a_ticket(agent):
    with pytest.raises(ValidationError) as error:
        make_ticket(requester=agent)

    assert "requester" in error.value.message_dict
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"subject": "   "}, "subject", id="blank-subject"),
        pytest.param({"description": ""}, "description", id="blank-description"),
        pytest.param({"severity": 0}, "severity", id="severity-0"),
        pytest.param({"severity": 6}, "severity", id="severity-6"),
        pytest.param({"channel": "fax"}, "channel", id="unknown-channel"),
    ],
)
def test_ticket_create_refuses_invalid_input_and_saves_nothing(changes, field):
    arguments = {
        "requester": CustomerFactory(),
        "subject": "Inbox down",
        "description": "Nothing arrives.",
        "severity": Severity.STANDARD,
        "at": T0,
    } | changes

    with pytest.raises(ValidationError) as error:
        services.ticket_create(**arguments)

    assert field in error.value.message_dict
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()


def test_creating_a_ticket_writes_a_created_event_by_the_requester():
    customer = CustomerFactory()

    ticket = make_ticket(requester=customer, severity=Severity.HIGH, channel=Channel.EMAIL, at=T0)

    (event,) = TicketEvent.objects.filter(ticket=ticket)
    assert (event.kind, event.actor, event.created_at) == (EventKind.CREATED, customer, T0)
    assert event.data == {"severity": 2, "channel": "email"}
    assert (ticket.company_id, ticket.status) == (customer.company_id, Status.NEW)


def test_a_ticket_filed_by_staff_names_the_staff_member_as_actor(agent):
    ticket = make_ticket(channel=Channel.PHONE, created_by=agent, at=T0)

    assert TicketEvent.objects.get(ticket=ticket).actor == agent


# ------------------------------------------------------------------------------------ replies


def test_changes_made_without_a_time_are_stamped_with_the_current_time(agent):
    with time_machine.travel(T0, tick=False):
        ticket = make_ticket()
        message = services.ticket_reply(ticket=ticket, author=agent, body="Hi.")

    assert ticket.created_at == message.created_at == T0
    assert {event.created_at for event in TicketEvent.objects.filter(ticket=ticket)} == {T0}


def test_every_row_a_change_writes_carries_the_moment_given(agent):
    ticket = make_ticket(at=T0)
    replied = T0 + 5 * MINUTE

    message = services.ticket_reply(ticket=ticket, author=agent, body="On it.", at=replied)

    ticket.refresh_from_db()
    assert (ticket.created_at, ticket.updated_at) == (T0, replied)
    assert message.created_at == replied
    reply_events = TicketEvent.objects.filter(ticket=ticket).exclude(kind=EventKind.CREATED)
    assert {event.created_at for event in reply_events} == {replied}


def test_an_escalation_by_the_scan_is_dated_at_the_deadline_and_stamps_the_scan_moment():
    ticket = make_ticket(at=T0)
    deadline, scanned = T0 + 30 * MINUTE, T0 + 45 * MINUTE

    services.tickets_escalate_bulk(
        moments={ticket.pk: deadline}, source=EscalationSource.SLA, now=scanned
    )

    ticket.refresh_from_db()
    assert ticket.updated_at == scanned
    assert Escalation.objects.get(ticket=ticket).created_at == deadline


@pytest.mark.parametrize("body", ["", "   \n"])
def test_a_reply_needs_a_body(ticket, agent, body):
    with pytest.raises(ValidationError) as error:
        services.ticket_reply(ticket=ticket, author=agent, body=body, at=T0 + MINUTE)

    assert "body" in error.value.message_dict
    assert not ticket.messages.exists()


@pytest.mark.parametrize("author", ["agent", "requester"])
def test_a_reply_to_a_closed_ticket_is_refused(ticket, agent, author):
    set_status(ticket, Status.CLOSED, agent)
    before = events(ticket)

    with pytest.raises(ValidationError):
        services.ticket_reply(
            ticket=ticket,
            author=agent if author == "agent" else ticket.requester,
            body="Hello?",
            at=T0 + 2 * MINUTE,
        )

    assert not ticket.messages.exists()
    assert events(ticket) == before


def test_a_staff_reply_opens_a_new_ticket_and_writes_reply_and_status_events(ticket, agent):
    message = services.ticket_reply(
        ticket=ticket, author=agent, body="  Looking into it.  ", at=T0 + MINUTE
    )

    assert (message.body, message.visibility) == ("Looking into it.", Visibility.PUBLIC)
    assert status_of(ticket) == Status.OPEN
    assert events(ticket)[1:] == [
        (EventKind.REPLIED, {"message": message.pk}),
        (EventKind.ASSIGNED, {"old": None, "new": agent.pk, "assignee_name": str(agent)}),
        (EventKind.STATUS, {"old": "new", "new": "open"}),
    ]


def test_the_agent_answering_an_unowned_ticket_takes_it_but_not_an_owned_one(ticket, agent):
    services.ticket_reply(ticket=ticket, author=agent, body="Mine now.", at=T0 + MINUTE)
    ticket.refresh_from_db()
    assert ticket.assignee == agent

    colleague = AgentFactory()
    services.ticket_reply(ticket=ticket, author=colleague, body="Helping.", at=T0 + MINUTE)
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_a_staff_reply_can_set_the_status_in_the_same_step(ticket, agent):
    services.ticket_reply(
        ticket=ticket, author=agent, body="Fixed.", new_status=Status.SOLVED, at=T0 + MINUTE
    )

    assert status_of(ticket) == Status.SOLVED


def test_a_staff_reply_cannot_send_a_ticket_back_to_new(ticket, agent):
    services.ticket_reply(ticket=ticket, author=agent, body="On it.", at=T0 + MINUTE)

    with pytest.raises(ValidationError):
        services.ticket_reply(
            ticket=ticket, author=agent, body="Again.", new_status=Status.NEW, at=T0 + 2 * MINUTE
        )

    assert status_of(ticket) == Status.OPEN


@pytest.mark.parametrize("status", [Status.WAITING, Status.SOLVED])
def test_a_customer_reply_reopens_a_waiting_or_solved_ticket(ticket, agent, status):
    set_status(ticket, status, agent)

    services.ticket_reply(
        ticket=ticket, author=ticket.requester, body="Still broken.", at=T0 + 2 * MINUTE
    )

    assert status_of(ticket) == Status.OPEN
    assert events(ticket)[-1] == (EventKind.STATUS, {"old": status.value, "new": "open"})
    assert TicketEvent.objects.filter(ticket=ticket).last().actor == ticket.requester


@pytest.mark.parametrize("status", [Status.NEW, Status.OPEN])
def test_a_customer_reply_leaves_an_active_ticket_as_it_is(ticket, agent, status):
    if status == Status.OPEN:
        set_status(ticket, status, agent)

    services.ticket_reply(
        ticket=ticket, author=ticket.requester, body="More detail.", at=T0 + 2 * MINUTE
    )

    assert status_of(ticket) == status
    assert events(ticket)[-1][0] == EventKind.REPLIED


# -------------------------------------------------------------------------------------- notes


def test_a_note_is_internal_and_writes_a_note_event_without_touching_the_status(ticket, agent):
    note = services.ticket_add_note(
        ticket=ticket, author=agent, body=" Call them. ", at=T0 + MINUTE
    )

    assert (note.visibility, note.body, note.author) == (Visibility.INTERNAL, "Call them.", agent)
    assert events(ticket)[1:] == [(EventKind.NOTE, {"message": note.pk})]
    assert status_of(ticket) == Status.NEW


def test_customers_cannot_add_internal_notes(ticket):
    with pytest.raises(ValidationError):
        services.ticket_add_note(ticket=ticket, author=ticket.requester, body="Psst.", at=T0)

    assert not ticket.messages.exists()


def test_a_note_needs_a_body(ticket, agent):
    with pytest.raises(ValidationError) as error:
        services.ticket_add_note(ticket=ticket, author=agent, body="  ", at=T0)

    assert "body" in error.value.message_dict


# ----------------------------------------------------------------------------------- statuses


def test_a_status_change_writes_an_event_with_old_new_and_actor(ticket, agent):
    set_status(ticket, Status.WAITING, agent)

    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.data, event.actor) == (
        EventKind.STATUS,
        {"old": "new", "new": "waiting"},
        agent,
    )


def test_setting_the_same_status_again_writes_no_event(ticket, agent):
    set_status(ticket, Status.WAITING, agent)

    set_status(ticket, Status.WAITING, agent, at=T0 + 2 * MINUTE)

    assert [kind for kind, _ in events(ticket)] == [EventKind.CREATED, EventKind.STATUS]


def test_a_closed_ticket_cannot_be_reopened(ticket, agent):
    set_status(ticket, Status.CLOSED, agent)

    with pytest.raises(ValidationError):
        set_status(ticket, Status.OPEN, agent, at=T0 + 2 * MINUTE)

    assert status_of(ticket) == Status.CLOSED


def test_a_ticket_cannot_go_back_to_new(ticket, agent):
    set_status(ticket, Status.OPEN, agent)

    with pytest.raises(ValidationError):
        set_status(ticket, Status.NEW, agent, at=T0 + 2 * MINUTE)

    assert status_of(ticket) == Status.OPEN


@pytest.mark.parametrize("status", [Status.WAITING, Status.CLOSED])
def test_a_customer_cannot_set_any_status_but_solved_or_open(ticket, status):
    with pytest.raises(ValidationError):
        set_status(ticket, status, ticket.requester)

    assert status_of(ticket) == Status.NEW


def test_a_customer_can_solve_and_reopen_their_ticket(ticket):
    set_status(ticket, Status.SOLVED, ticket.requester)
    assert status_of(ticket) == Status.SOLVED

    set_status(ticket, Status.OPEN, ticket.requester, at=T0 + 2 * MINUTE)

    assert status_of(ticket) == Status.OPEN


# ----------------------------------------------------------------------------------- severity


def test_a_severity_change_writes_an_event_with_the_reason(ticket, agent):
    services.ticket_change_severity(
        ticket=ticket, severity=Severity.CRITICAL, reason=" Site down. ", actor=agent, at=T0
    )

    assert Ticket.objects.get(pk=ticket.pk).severity == Severity.CRITICAL
    assert events(ticket)[-1] == (EventKind.SEVERITY, {"old": 3, "new": 1, "reason": "Site down."})


@pytest.mark.parametrize(
    ("severity", "reason", "field"),
    [
        pytest.param(Severity.HIGH, "  ", "reason", id="no-reason"),
        pytest.param(0, "Because.", "severity", id="severity-0"),
        pytest.param(6, "Because.", "severity", id="severity-6"),
    ],
)
def test_a_severity_change_needs_a_reason_and_a_severity_from_one_to_five(
    ticket, agent, severity, reason, field
):
    with pytest.raises(ValidationError) as error:
        services.ticket_change_severity(
            ticket=ticket, severity=severity, reason=reason, actor=agent, at=T0
        )

    assert field in error.value.message_dict
    assert Ticket.objects.get(pk=ticket.pk).severity == Severity.STANDARD


def test_setting_the_same_severity_writes_no_event(ticket, agent):
    services.ticket_change_severity(
        ticket=ticket, severity=Severity.STANDARD, reason="Same.", actor=agent, at=T0
    )

    assert [kind for kind, _ in events(ticket)] == [EventKind.CREATED]


# --------------------------------------------------------------------------------- assignment


@pytest.mark.parametrize("who", ["customer", "staff-without-agent-profile"])
def test_only_agents_can_be_assigned(ticket, agent, who):
    assignee = ticket.requester if who == "customer" else UserFactory()

    with pytest.raises(ValidationError) as error:
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=agent, at=T0)

    assert "assignee" in error.value.message_dict
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_assigning_an_agent_writes_an_event_and_notifies_the_agent(ticket, agent):
    manager = UserFactory()

    services.ticket_assign(ticket=ticket, assignee=agent, actor=manager, at=T0 + MINUTE)

    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.data, event.actor) == (
        EventKind.ASSIGNED,
        {"old": None, "new": agent.pk, "assignee_name": str(agent)},
        manager,
    )
    (notice,) = Notification.objects.all()
    assert (notice.recipient, notice.kind, notice.ticket_id) == (
        agent,
        NotificationKind.ASSIGNMENT,
        ticket.pk,
    )
    assert (notice.subject_key, notice.created_at) == (f"event:{event.pk}", T0 + MINUTE)


def test_an_agent_taking_a_ticket_is_not_notified_about_it(ticket, agent):
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent, at=T0)

    assert Ticket.objects.get(pk=ticket.pk).assignee == agent
    assert not Notification.objects.exists()


def test_assigning_the_current_assignee_again_changes_nothing(ticket, agent):
    services.ticket_assign(ticket=ticket, assignee=agent, actor=None, at=T0)

    services.ticket_assign(ticket=ticket, assignee=agent, actor=None, at=T0 + MINUTE)

    assert [kind for kind, _ in events(ticket)] == [EventKind.CREATED, EventKind.ASSIGNED]
    assert Notification.objects.count() == 1


def test_each_reassignment_notifies_the_new_assignee(ticket, agent):
    other = AgentFactory()

    services.ticket_assign(ticket=ticket, assignee=agent, actor=None, at=T0)
    services.ticket_assign(ticket=ticket, assignee=other, actor=None, at=T0 + MINUTE)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=None, at=T0 + 2 * MINUTE)

    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(
        [agent.pk, agent.pk, other.pk]
    )


def test_unassigning_writes_an_event_and_notifies_nobody(ticket, agent):
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent, at=T0)

    services.ticket_assign(ticket=ticket, assignee=None, actor=agent, at=T0 + MINUTE)

    assert events(ticket)[-1] == (
        EventKind.ASSIGNED,
        {"old": agent.pk, "new": None, "assignee_name": ""},
    )
    assert not Notification.objects.exists()


# --------------------------------------------------------------------------------- escalation


def test_a_customer_of_a_standard_company_cannot_escalate(ticket):
    with pytest.raises(ValidationError):
        services.ticket_escalate(
            ticket=ticket,
            reason="Need a senior.",
            source=EscalationSource.CUSTOMER,
            requested_by=ticket.requester,
            at=T0,
        )

    assert not Escalation.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).tier == Tier.AGENT


def test_a_vip_customer_escalates_to_tier_two_and_active_seniors_are_told():
    seniors = [SeniorFactory(), SeniorFactory()]
    SeniorFactory(is_active=False)
    AgentFactory()
    ticket = vip_ticket()

    escalation = services.ticket_escalate(
        ticket=ticket,
        reason=" Need a senior. ",
        source=EscalationSource.CUSTOMER,
        requested_by=ticket.requester,
        at=T0 + MINUTE,
    )

    assert Ticket.objects.get(pk=ticket.pk).tier == Tier.SENIOR
    assert (escalation.source, escalation.requested_by, escalation.reason) == (
        EscalationSource.CUSTOMER,
        ticket.requester,
        "Need a senior.",
    )
    assert events(ticket)[-1] == (
        EventKind.ESCALATED,
        {"source": "customer", "reason": "Need a senior."},
    )
    assert sorted(
        Notification.objects.filter(kind=NotificationKind.ESCALATION).values_list(
            "recipient_id", "subject_key"
        )
    ) == sorted((senior.pk, f"escalation:{escalation.pk}") for senior in seniors)


def test_an_agent_can_escalate_a_standard_ticket(ticket, agent):
    escalation = services.ticket_escalate(
        ticket=ticket, reason="Beyond me.", source=EscalationSource.AGENT, requested_by=agent, at=T0
    )

    assert escalation.source == EscalationSource.AGENT
    assert Ticket.objects.get(pk=ticket.pk).tier == Tier.SENIOR


def test_escalating_twice_returns_the_first_escalation_and_writes_nothing_new(agent):
    SeniorFactory()
    ticket = vip_ticket()
    first = services.ticket_escalate(
        ticket=ticket, reason="Urgent.", source=EscalationSource.AGENT, requested_by=agent, at=T0
    )
    trail, notices = events(ticket), Notification.objects.count()

    again = services.ticket_escalate(
        ticket=ticket,
        reason="Still urgent.",
        source=EscalationSource.CUSTOMER,
        requested_by=ticket.requester,
        at=T0 + MINUTE,
    )

    assert again == first
    assert Escalation.objects.count() == 1
    assert (events(ticket), Notification.objects.count()) == (trail, notices)


@pytest.mark.parametrize("status", [Status.SOLVED, Status.CLOSED])
def test_a_solved_or_closed_ticket_cannot_be_escalated(ticket, agent, status):
    set_status(ticket, status, agent)

    with pytest.raises(ValidationError):
        services.ticket_escalate(
            ticket=ticket, reason="Late.", source=EscalationSource.AGENT, requested_by=agent, at=T0
        )

    assert not Escalation.objects.exists()


def test_an_escalation_needs_a_reason(ticket, agent):
    with pytest.raises(ValidationError) as error:
        services.ticket_escalate(
            ticket=ticket, reason=" ", source=EscalationSource.AGENT, requested_by=agent, at=T0
        )

    assert "reason" in error.value.message_dict


# ------------------------------------------------------------------------- append-only trail


def test_the_trail_lists_every_change_in_order(ticket, agent):
    services.ticket_assign(ticket=ticket, assignee=agent, actor=None, at=T0 + MINUTE)
    services.ticket_add_note(ticket=ticket, author=agent, body="Hm.", at=T0 + 2 * MINUTE)
    services.ticket_reply(ticket=ticket, author=agent, body="Hi.", at=T0 + 3 * MINUTE)
    services.ticket_change_severity(
        ticket=ticket, severity=Severity.HIGH, reason="Worse.", actor=agent, at=T0 + 4 * MINUTE
    )
    services.ticket_escalate(
        ticket=ticket, reason="Hard.", source=EscalationSource.AGENT, at=T0 + 5 * MINUTE
    )
    set_status(ticket, Status.SOLVED, agent, at=T0 + 6 * MINUTE)

    assert [kind for kind, _ in events(ticket)] == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.NOTE,
        EventKind.REPLIED,
        EventKind.STATUS,
        EventKind.SEVERITY,
        EventKind.ESCALATED,
        EventKind.STATUS,
    ]


def _save_again(event: TicketEvent) -> None:
    event.data = {"tampered": True}
    event.save()


def _save_fields_again(event: TicketEvent) -> None:
    event.data = {"tampered": True}
    event.save(update_fields=["data"])


def _delete(event: TicketEvent) -> None:
    event.delete()


def _queryset_update(event: TicketEvent) -> None:
    TicketEvent.objects.filter(pk=event.pk).update(data={"tampered": True})


def _manager_update(event: TicketEvent) -> None:
    TicketEvent.objects.update(data={"tampered": True})


def _queryset_delete(event: TicketEvent) -> None:
    TicketEvent.objects.filter(pk=event.pk).delete()


def _bulk_update(event: TicketEvent) -> None:
    event.data = {"tampered": True}
    TicketEvent.objects.bulk_update([event], ["data"])


@pytest.mark.parametrize(
    "tamper",
    [
        _save_again,
        _save_fields_again,
        _delete,
        _queryset_update,
        _manager_update,
        _queryset_delete,
        _bulk_update,
    ],
)
def test_ticket_events_cannot_be_updated_or_deleted(ticket, tamper):
    event = TicketEvent.objects.get(ticket=ticket)
    original = event.data

    with pytest.raises(TypeError), transaction.atomic():
        tamper(event)

    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("pk", "data")) == [
        (event.pk, original)
    ]


def test_seed_demo_tickets_runs_once():
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo_tickets")
    count = Ticket.objects.count()

    call_command("seed_demo_tickets")

    assert count == 4
    assert Ticket.objects.count() == count
