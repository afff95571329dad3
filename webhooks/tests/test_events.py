"""Which changes become which events, for whom: written in the changing transaction, one per
subscribed endpoint that hears the company, and delivered signed to a real receiver."""

import datetime
import json

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company
from outbox.models import EmailState, WebhookDelivery
from outbox.services import webhooks_send_pending
from scheduling.services import bookings
from scheduling.tests.factories import NOW as BOOKING_NOW
from scheduling.tests.factories import berlin, make_booking, vip_people
from sla.services import sla_scan
from tickets import services as ticket_services
from tickets.models import EscalationSource, Status
from tickets.tests.factories import make_ticket
from webhooks.tests.factories import endpoint
from webhooks.tests.receiver import running_receiver

pytestmark = pytest.mark.django_db

# Monday 2026-11-30 09:00 in Berlin (CET), the desk open.
MONDAY_0900 = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(MONDAY_0900, tick=True) as traveller:
        yield traveller


@pytest.fixture
def acme():
    company = vip_company(name="Acme Ltd")
    agent = AgentFactory(email="maria@support.example")
    senior = SeniorFactory(email="georgi@support.example")
    account_services.company_assign_agents(company=company, dedicated=agent, backup=senior)
    customer = CustomerFactory(company=company, email="ann@acme.example")
    return {"company": company, "customer": customer, "agent": agent, "senior": senior}


def bodies(event_type=None):
    rows = WebhookDelivery.objects.order_by("pk")
    if event_type is not None:
        rows = rows.filter(event_type=event_type)
    return [json.loads(row.body) for row in rows]


def types():
    return list(WebhookDelivery.objects.order_by("pk").values_list("event_type", flat=True))


def test_a_new_ticket_is_delivered_signed_with_its_whole_payload(acme, settings):
    settings.PORTAL_URL = "https://support.example.com"
    with running_receiver() as receiver:
        hook = endpoint(company=acme["company"], url=receiver.url(), events=["ticket.created"])
        receiver.secret = hook.secret

        ticket = make_ticket(
            requester=acme["customer"], severity=2, subject="VPN down", at=MONDAY_0900
        )
        assert webhooks_send_pending() == 1

    [seen] = receiver.deliveries
    assert seen.verified
    assert seen.headers["X-VIP-Event"] == "ticket.created"
    payload = seen.payload
    assert seen.headers["X-VIP-Delivery"] == payload["id"]
    assert seen.body.decode() == json.dumps(payload, sort_keys=True, separators=(",", ":"))
    assert payload == {
        "id": payload["id"],
        "type": "ticket.created",
        "created_at": "2026-11-30T08:00:00Z",
        "company_id": acme["company"].pk,
        "data": {
            "ticket": {
                "id": ticket.pk,
                "subject": "VPN down",
                "severity": 2,
                "status": "new",
                "channel": "web",
                "tier": 1,
                "requester_email": "ann@acme.example",
                "created_at": "2026-11-30T08:00:00Z",
                "url": f"https://support.example.com/tickets/{ticket.pk}/",
                "api_url": f"https://support.example.com/api/v1/tickets/{ticket.pk}/",
            }
        },
    }
    delivery = WebhookDelivery.objects.get()
    assert delivery.topic == f"webhook-endpoint:{hook.pk}"
    assert delivery.state == EmailState.SENT


def test_replies_from_both_sides_are_delivered_and_internal_notes_never(acme):
    endpoint(company=acme["company"], url="https://hooks.acme.example/vip")
    ticket = make_ticket(requester=acme["customer"], at=MONDAY_0900)
    WebhookDelivery.objects.all().delete()

    ticket_services.ticket_add_note(
        ticket=ticket, author=acme["agent"], body="Customer is on the old VPN client."
    )
    assert types() == []

    staff = ticket_services.ticket_reply(
        ticket=ticket, author=acme["agent"], body="Please update the client."
    )
    customer = ticket_services.ticket_reply(
        ticket=ticket, author=acme["customer"], body="Done, it works."
    )

    replies = bodies("ticket.replied")
    assert [reply["data"]["message"] for reply in replies] == [
        {
            "id": staff.pk,
            "author": "staff",
            "body": "Please update the client.",
            "created_at": replies[0]["created_at"],
        },
        {
            "id": customer.pk,
            "author": "customer",
            "body": "Done, it works.",
            "created_at": replies[1]["created_at"],
        },
    ]
    assert "old VPN client" not in "".join(WebhookDelivery.objects.values_list("body", flat=True))
    # The staff reply opened the ticket.
    [changed] = bodies("ticket.status_changed")
    assert (changed["data"]["previous_status"], changed["data"]["ticket"]["status"]) == (
        "new",
        "open",
    )


def test_a_status_change_says_what_it_was_before(acme):
    endpoint(company=acme["company"], url="https://hooks.acme.example/vip")
    ticket = make_ticket(requester=acme["customer"], at=MONDAY_0900)

    ticket_services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=acme["customer"])

    [changed] = bodies("ticket.status_changed")
    assert changed["data"]["previous_status"] == "new"
    assert changed["data"]["ticket"]["status"] == "solved"


def test_an_escalation_says_why_and_who_asked(acme):
    endpoint(company=acme["company"], url="https://hooks.acme.example/vip")
    ticket = make_ticket(requester=acme["customer"], at=MONDAY_0900)

    ticket_services.ticket_escalate(
        ticket=ticket,
        reason="Production is down",
        source=EscalationSource.CUSTOMER,
        requested_by=acme["customer"],
    )

    [escalated] = bodies("ticket.escalated")
    assert escalated["data"]["escalation"] == {
        "reason": "Production is down",
        "source": "customer",
    }
    assert escalated["data"]["ticket"]["tier"] == 2  # the ticket as the escalation left it


def test_the_sla_scan_sends_warnings_breaches_and_its_escalations(acme, clock):
    endpoint(company=acme["company"], url="https://hooks.acme.example/vip")
    sev3 = make_ticket(requester=acme["customer"], severity=3, at=MONDAY_0900)
    sev1 = make_ticket(requester=acme["customer"], severity=1, at=MONDAY_0900)
    WebhookDelivery.objects.all().delete()

    # Severity 3's first response is due at 10:00 UTC, warned at 80 % (09:36).
    clock.move_to(MONDAY_0900 + 100 * MINUTE)
    sla_scan()

    warnings = bodies("ticket.sla_warning")
    assert {warning["data"]["ticket"]["id"] for warning in warnings} == {sev3.pk}
    [warning] = warnings
    assert warning["data"]["target"]["kind"] == "first_response"
    assert warning["data"]["target"]["due_at"] == "2026-11-30T10:00:00Z"
    assert warning["created_at"] == "2026-11-30T09:36:00Z"  # when it happened, not the scan

    clock.move_to(MONDAY_0900 + 3 * 60 * MINUTE)
    sla_scan()

    breaches = bodies("ticket.sla_breached")
    assert sorted(breach["data"]["ticket"]["id"] for breach in breaches) == sorted(
        [sev3.pk, sev1.pk]
    )
    [escalated] = bodies("ticket.escalated")
    assert escalated["data"]["ticket"]["id"] == sev1.pk
    assert escalated["data"]["escalation"] == {"reason": "SLA breach", "source": "sla"}


def test_a_scan_batch_is_written_in_one_insert(acme, clock):
    endpoint(company=acme["company"], url="https://hooks.acme.example/vip")
    endpoint(company=None, url="https://desk.example.com/all")
    for _ in range(5):
        make_ticket(requester=acme["customer"], severity=3, at=MONDAY_0900)
    clock.move_to(MONDAY_0900 + 100 * MINUTE)

    with CaptureQueriesContext(connection) as queries:
        sla_scan()

    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "outbox_webhookdelivery"')]
    assert len(inserts) == 1
    assert len(bodies("ticket.sla_warning")) == 10  # five tickets, two endpoints


def test_calls_booked_moved_and_cancelled_are_delivered(clock):
    clock.move_to(BOOKING_NOW)
    people = vip_people()
    endpoint(company=people.company, url="https://hooks.acme.example/vip")

    booking = make_booking(people, berlin(1, 10), now=None)
    bookings.booking_reschedule(booking=booking, starts_at=berlin(1, 11), by=people.customer)
    bookings.booking_cancel_by_customer(booking=booking, by=people.customer)

    assert types() == ["booking.created", "booking.moved", "booking.cancelled"]
    created, moved, cancelled = (body["data"]["booking"] for body in bodies())
    assert created == {
        "id": booking.pk,
        "status": "confirmed",
        "starts_at": "2026-12-01T09:00:00Z",
        "ends_at": "2026-12-01T09:30:00Z",
        "call_type": "support",
        "agent": str(people.agent),
        "ticket_id": None,
    }
    assert (moved["starts_at"], moved["status"]) == ("2026-12-01T10:00:00Z", "confirmed")
    assert cancelled["status"] == "cancelled"
    assert {body["company_id"] for body in bodies()} == {people.company.pk}


def test_a_company_endpoint_hears_only_its_company_and_a_desk_wide_one_hears_all(acme):
    globex = vip_company(name="Globex")
    bob = CustomerFactory(company=globex, email="bob@globex.example")
    acme_hook = endpoint(company=acme["company"], url="https://hooks.acme.example/vip")
    globex_hook = endpoint(company=globex, url="https://hooks.globex.example/vip")
    desk_hook = endpoint(company=None, url="https://desk.example.com/all")

    acme_ticket = make_ticket(requester=acme["customer"], at=MONDAY_0900)
    globex_ticket = make_ticket(requester=bob, at=MONDAY_0900)

    def heard(hook):
        return sorted(
            json.loads(body)["data"]["ticket"]["id"]
            for body in WebhookDelivery.objects.filter(topic=hook.topic).values_list(
                "body", flat=True
            )
        )

    assert heard(acme_hook) == [acme_ticket.pk]
    assert heard(globex_hook) == [globex_ticket.pk]
    assert heard(desk_hook) == sorted([acme_ticket.pk, globex_ticket.pk])
    # One event, one id, whoever hears it.
    acme_event = {
        json.loads(body)["id"]
        for body in WebhookDelivery.objects.exclude(topic=globex_hook.topic).values_list(
            "body", flat=True
        )
        if json.loads(body)["company_id"] == acme["company"].pk
    }
    assert len(acme_event) == 1


def test_only_subscribed_active_endpoints_hear_an_event(acme):
    endpoint(company=acme["company"], url="https://a.example.com/", events=["booking.created"])
    paused = endpoint(company=acme["company"], url="https://b.example.com/")
    paused.is_active = False
    paused.save()

    make_ticket(requester=acme["customer"], at=MONDAY_0900)

    assert types() == []


def test_a_rolled_back_change_sends_nothing(acme):
    endpoint(company=acme["company"], url="https://hooks.acme.example/vip")

    written = []

    def make_then_fail():
        with transaction.atomic():
            make_ticket(requester=acme["customer"], at=MONDAY_0900)
            written.extend(types())
            raise RuntimeError("the caller fails after the ticket was made")

    with pytest.raises(RuntimeError):
        make_then_fail()

    assert written == ["ticket.created"]  # written in the transaction…
    assert types() == []  # …and gone with it


def test_without_endpoints_a_change_costs_one_query_and_writes_nothing(acme):
    ticket = make_ticket(requester=acme["customer"], at=MONDAY_0900)

    with CaptureQueriesContext(connection) as queries:
        ticket_services.ticket_reply(ticket=ticket, author=acme["customer"], body="Any news?")

    asked = [q for q in queries if '"webhooks_webhookendpoint"' in q["sql"]]
    assert len(asked) == 1
    assert types() == []


def test_a_companys_endpoint_falls_silent_when_its_addon_ends(acme):
    endpoint(company=acme["company"], url="https://hooks.acme.example/", events=["ticket.created"])
    desk_wide = endpoint(company=None, url="https://hooks.desk.example/", events=["ticket.created"])
    [subscription] = acme["company"].addon_subscriptions.all()
    account_services.addon_end(subscription=subscription)

    with time_machine.travel(MONDAY_0900 + datetime.timedelta(days=1), tick=False):
        make_ticket(requester=acme["customer"])

    assert list(WebhookDelivery.objects.values_list("topic", flat=True)) == [
        f"webhook-endpoint:{desk_wide.pk}"
    ]
