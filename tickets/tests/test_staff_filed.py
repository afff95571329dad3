"""Tickets agents file for customers who phoned, wrote or chatted: dated when the request reached
them, in the agent's own zone, with the SLA clock the channel gives."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from sla.models import SlaTarget, TargetKind
from tickets.models import Channel, EventKind, Ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=BERLIN)
SATURDAY = datetime.datetime(2026, 3, 14, 10, 0, tzinfo=BERLIN)
MONDAY_OPENING = datetime.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)
URL = "/queue/tickets/new/"


@pytest.fixture(autouse=True)
def _saturday_morning():
    with time_machine.travel(SATURDAY, tick=False):
        yield


@pytest.fixture
def customer():
    return CustomerFactory(
        company=vip_company(name="Acme Ltd"),
        first_name="Ivan",
        last_name="Petrov",
        email="ivan@acme.example",
    )


@pytest.fixture
def agent():
    return AgentFactory(first_name="Maria", last_name="Ivanova", time_zone="Europe/Berlin")


def form(customer, **changes):
    data = {
        "requester": str(customer.pk),
        "channel": "email",
        "received_at": "2026-03-13T18:30",
        "severity": "2",
        "subject": "The VPN is down",
        "description": "Ivan wrote: the VPN is down for **everyone**.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def file(client_for, agent, data):
    return client_for(agent).post(URL, data)


class TestFiling:
    def test_mail_received_friday_evening_starts_its_clock_on_monday(
        self, client_for, agent, customer
    ):
        response = file(client_for, agent, form(customer))

        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/queue/tickets/{ticket.pk}/"
        assert ticket.requester == customer
        assert ticket.channel == Channel.EMAIL
        assert ticket.severity == 2
        assert ticket.created_at == FRIDAY_EVENING
        assert ticket.sla_clock_started_at == MONDAY_OPENING
        first = SlaTarget.objects.get(ticket=ticket, kind=TargetKind.FIRST_RESPONSE)
        assert first.started_at == MONDAY_OPENING
        created = ticket.events.get(kind=EventKind.CREATED)
        assert created.actor == agent
        assert created.created_at == FRIDAY_EVENING

    def test_a_phone_call_at_the_same_moment_starts_at_once(self, client_for, agent, customer):
        file(client_for, agent, form(customer, channel="phone"))

        ticket = Ticket.objects.get()
        assert ticket.channel == Channel.PHONE
        assert ticket.created_at == FRIDAY_EVENING
        assert ticket.sla_clock_started_at == FRIDAY_EVENING

    def test_the_time_is_read_in_the_agents_own_zone(self, client_for, customer):
        agent = AgentFactory(time_zone="America/New_York")

        file(client_for, agent, form(customer, received_at="2026-03-13T12:30"))

        new_york = datetime.datetime(2026, 3, 13, 12, 30, tzinfo=ZoneInfo("America/New_York"))
        assert Ticket.objects.get().created_at == new_york

    def test_files_come_along(self, client_for, agent, customer):
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = form(customer)
        data["attachments"] = [SimpleUploadedFile("vpn.log", b"line 1\n", "text/plain")]

        assert file(client_for, agent, data).status_code == 302
        ticket = Ticket.objects.get()
        assert [a.original_name for a in ticket.attachments.all()] == ["vpn.log"]

    def test_the_form_starts_at_now_in_the_agents_zone_and_lists_customers(
        self, client_for, agent, customer
    ):
        CustomerFactory(is_active=False, email="gone@acme.example", company=customer.company)

        page = client_for(agent).get(URL).text

        assert 'type="datetime-local"' in page
        assert 'value="2026-03-14T10:00"' in page
        assert "Europe/Berlin" in page
        label = "Ivan Petrov &lt;ivan@acme.example&gt; · Acme Ltd"
        assert f'<option value="{customer.pk}">{label}</option>' in page
        assert "gone@acme.example" not in page
        assert "maria" not in page.lower().split("<main>")[1].split("</form>")[0]

    def test_the_queue_links_to_it(self, client_for, agent):
        assert f'href="{URL}"' in client_for(agent).get("/queue/").text


class TestValidation:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"received_at": "2026-03-14T10:01"}, "cannot have reached you in the future"),
            ({"received_at": "2026-03-07T09:59"}, "at most 7 days back"),
            ({"received_at": "yesterday"}, "Enter the date and time the request reached you."),
            ({"received_at": ""}, "Say when the request reached you."),
            ({"channel": "web"}, "Choose phone, e-mail or chat."),
            ({"channel": "voicemail"}, "Choose phone, e-mail or chat."),
            ({"channel": None}, "Say how the request reached you."),
            ({"requester": "999999"}, "Choose a customer from the list."),
            ({"requester": "12abc"}, "Choose a customer from the list."),
            ({"requester": "99999999999999999999999"}, "Choose a customer from the list."),
            ({"requester": ""}, "Choose the customer the ticket is for."),
            ({"severity": "6"}, "Choose a severity from 1 to 5."),
            ({"subject": ""}, "Give the ticket a subject."),
            ({"description": ""}, "Describe the problem, so we can start on it."),
        ],
    )
    def test_bad_input_is_refused_and_kept(self, client_for, agent, customer, changes, message):
        response = file(client_for, agent, form(customer, **changes))

        assert response.status_code == 400
        assert message in response.text
        assert not Ticket.objects.exists()
        if "subject" not in changes:
            assert 'value="The VPN is down"' in response.text

    def test_a_week_ago_to_the_minute_is_still_fine(self, client_for, agent, customer):
        response = file(client_for, agent, form(customer, received_at="2026-03-07T10:00"))

        assert response.status_code == 302

    def test_now_to_the_minute_is_fine(self, client_for, agent, customer):
        response = file(client_for, agent, form(customer, received_at="2026-03-14T10:00"))

        assert response.status_code == 302
        assert Ticket.objects.get().created_at == SATURDAY

    def test_staff_cannot_be_the_requester(self, client_for, agent, customer):
        other_agent = AgentFactory()

        response = file(client_for, agent, form(customer, requester=str(other_agent.pk)))

        assert response.status_code == 400
        assert "Choose a customer from the list." in response.text

    def test_an_inactive_customer_cannot_be_the_requester(self, client_for, agent, customer):
        gone = CustomerFactory(is_active=False, company=customer.company)

        response = file(client_for, agent, form(customer, requester=str(gone.pk)))

        assert response.status_code == 400

    def test_a_time_the_clocks_skip_is_refused_not_a_crash(self, client_for, customer):
        agent = AgentFactory(time_zone="Europe/Berlin")
        # 2026-03-29 02:30 does not exist in Berlin; travel past it so it is not "future".
        with time_machine.travel(datetime.datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN), tick=False):
            response = file(client_for, agent, form(customer, received_at="2026-03-29T02:30"))

        assert response.status_code == 400
        assert not Ticket.objects.exists()


def test_customers_cannot_file_for_others(client_for, customer):
    client = client_for(customer)

    assert client.get(URL).status_code == 403
    assert client.post(URL, form(customer)).status_code == 403
    assert not Ticket.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, customer):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
