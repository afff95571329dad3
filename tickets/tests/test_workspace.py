import re
from datetime import UTC, datetime

import pytest
import time_machine

from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company
from sla.models import SlaTarget, TargetKind
from tickets import services
from tickets.models import Escalation, Notification, Status, TicketEvent
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _monday_morning():
    """The ticket comes in at `AT`, and the agent works on it then (page posts are stamped with
    the clock), whatever day the suite runs."""
    with time_machine.travel(AT, tick=False):
        yield


@pytest.fixture
def ticket():
    return make_ticket(
        requester=CustomerFactory(company=vip_company(name="Acme Ltd")), severity=3, at=AT
    )


@pytest.fixture
def agent():
    return AgentFactory(first_name="Maria", last_name="Ivanova")


def url(ticket, action=""):
    return f"/queue/tickets/{ticket.pk}/" + (f"{action}/" if action else "")


def test_the_workspace_shows_notes_apart_the_sla_panel_and_the_timeline(client_for, ticket, agent):
    services.ticket_add_note(ticket=ticket, author=agent, body="Check the **MX** records", at=AT)

    page = client_for(agent).get(url(ticket)).text

    assert 'class="message internal staff"' in page
    assert "<strong>MX</strong>" in page
    assert 'data-testid="sla-panel"' in page
    assert "Received Mon 09:00; 2 business hours → due Mon 11:00" in page
    assert "Internal note" in page
    assert "Created" in page


def test_a_public_reply_answers_the_first_response_and_can_set_waiting(client_for, ticket, agent):
    response = client_for(agent).post(
        url(ticket, "reply"), {"body": "Please send the logs.", "then": "waiting"}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    first = SlaTarget.objects.get(ticket=ticket, kind=TargetKind.FIRST_RESPONSE)
    assert first.fulfilled_at is not None


def test_a_note_never_answers_the_customer(client_for, ticket, agent):
    client_for(agent).post(url(ticket, "reply"), {"body": "Thinking.", "internal": "1"})

    assert ticket.messages.get().visibility == "internal"
    assert SlaTarget.objects.get(ticket=ticket).fulfilled_at is None


def test_severity_change_needs_a_reason_and_keeps_the_input(client_for, ticket, agent):
    client = client_for(agent)

    response = client.post(url(ticket, "severity"), {"severity": "1", "reason": ""})
    assert response.status_code == 400
    assert "Say why." in response.text

    response = client.post(url(ticket, "severity"), {"severity": "1", "reason": "Outage"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.severity == 1
    event = TicketEvent.objects.get(ticket=ticket, kind="severity")
    assert event.data == {"old": 3, "new": 1, "reason": "Outage"}


def test_an_unknown_severity_is_a_form_error(client_for, ticket, agent):
    response = client_for(agent).post(url(ticket, "severity"), {"severity": "7", "reason": "x"})

    assert response.status_code == 400
    assert "Choose a severity from 1 to 5." in response.text


def test_assign_to_me_and_to_someone_else(client_for, ticket, agent):
    other = AgentFactory()
    client = client_for(agent)

    client.post(url(ticket, "assign"), {"assignee": "me"})
    ticket.refresh_from_db()
    assert ticket.assignee == agent

    client.post(url(ticket, "assign"), {"assignee": other.pk})
    ticket.refresh_from_db()
    assert ticket.assignee == other
    assert Notification.objects.filter(recipient=other, kind="assignment").exists()


def test_assigning_a_customer_is_refused(client_for, ticket, agent):
    response = client_for(agent).post(url(ticket, "assign"), {"assignee": ticket.requester_id})

    assert response.status_code == 400


def test_escalation_by_an_agent_notifies_the_seniors(client_for, ticket, agent):
    senior = SeniorFactory()

    client_for(agent).post(url(ticket, "escalate"), {"reason": "Needs a DB expert"})

    escalation = Escalation.objects.get()
    assert (escalation.source, escalation.requested_by) == ("agent", agent)
    assert Notification.objects.filter(recipient=senior, kind="escalation").exists()


def test_status_changes_and_closed_tickets_refuse_replies(client_for, ticket, agent):
    client = client_for(agent)

    client.post(url(ticket, "status"), {"status": "closed"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED

    response = client.post(url(ticket, "reply"), {"body": "One more thing"})
    assert response.status_code == 400
    assert "cannot take replies" in response.text

    response = client.post(url(ticket, "status"), {"status": "bogus"})
    assert response.status_code == 400


def test_a_new_tickets_status_form_shows_new_and_nothing_moves_back_to_it(
    client_for, ticket, agent
):
    client = client_for(agent)

    page = client.get(f"/queue/tickets/{ticket.pk}/").text
    assert re.search(r'<option value="new" selected>', page)

    client.post(url(ticket, "status"), {"status": "open"})
    response = client.post(url(ticket, "status"), {"status": "new"})

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert response.status_code == 400
    assert "cannot go back to New" in response.text


def test_a_forged_ticket_id_is_404(client_for, agent):
    assert client_for(agent).get("/queue/tickets/424242/").status_code == 404
    assert client_for(agent).post("/queue/tickets/424242/reply/", {"body": "x"}).status_code == 404


@pytest.mark.parametrize("action", ["reply", "status", "severity", "assign", "escalate"])
def test_customers_are_refused_every_workspace_action(client_for, ticket, action):
    response = client_for(ticket.requester).post(url(ticket, action), {"body": "x"})

    assert response.status_code == 403


def test_query_count_is_constant(client_for, ticket, agent, django_assert_max_num_queries):
    client = client_for(agent)
    services.ticket_reply(ticket=ticket, author=agent, body="First", at=AT)
    with django_assert_max_num_queries(40) as few:
        client.get(url(ticket))
    for number in range(15):
        services.ticket_reply(ticket=ticket, author=agent, body=f"Reply {number}")
        services.ticket_add_note(ticket=ticket, author=agent, body=f"Note {number}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(ticket)).status_code == 200
