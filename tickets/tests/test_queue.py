from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts import services as account_services
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company
from sla.services import sla_scan
from tickets import services
from tickets.models import Status, Ticket
from tickets.queue import Cursor, QueueFilters, View, queue_page
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
NOW = MONDAY_0900 + timedelta(hours=3)


@pytest.fixture
def customer():
    return CustomerFactory(company=vip_company(name="Acme Ltd"))


@pytest.fixture
def agent():
    return AgentFactory()


def opened(customer, *, severity, minutes, subject=None):
    return make_ticket(
        requester=customer,
        severity=severity,
        at=MONDAY_0900 + timedelta(minutes=minutes),
        subject=subject or f"sev {severity} at +{minutes}",
    )


def subjects(page):
    return [ticket.subject for ticket in page.tickets]


def test_order_is_breached_then_due_then_severity_then_age(customer, agent):
    late_sev3 = opened(customer, severity=3, minutes=0)  # due 11:00 CET, 1 h overdue at NOW
    late_sev1 = opened(customer, severity=1, minutes=30)  # due 10:30 CET, 1.5 h overdue
    soon_sev1 = opened(customer, severity=1, minutes=150)  # due 12:30 CET
    sev5 = opened(customer, severity=5, minutes=10)  # due next day 09:10
    waiting = opened(customer, severity=2, minutes=5)
    services.ticket_reply(
        ticket=waiting, author=agent, body="?", new_status=Status.WAITING, at=MONDAY_0900
    )
    waiting_sev4 = opened(customer, severity=4, minutes=1)
    services.ticket_reply(
        ticket=waiting_sev4, author=agent, body="?", new_status=Status.WAITING, at=MONDAY_0900
    )
    sla_scan(now=NOW)

    page = queue_page(user=agent, filters=QueueFilters())

    assert [ticket.pk for ticket in page.tickets] == [
        late_sev1.pk,
        late_sev3.pk,
        soon_sev1.pk,
        sev5.pk,
        waiting.pk,
        waiting_sev4.pk,
    ]
    assert page.next_cursor is None


def test_keyset_pages_cover_every_ticket_once_across_dated_and_undated_rows(customer, agent):
    for minutes in range(7):
        opened(customer, severity=3, minutes=minutes)
    for minutes in range(4):
        ticket = opened(customer, severity=4, minutes=minutes)
        services.ticket_reply(
            ticket=ticket, author=agent, body="?", new_status=Status.WAITING, at=MONDAY_0900
        )

    seen, cursor = [], None
    while True:
        page = queue_page(user=agent, filters=QueueFilters(), after=cursor, size=3)
        seen += [ticket.pk for ticket in page.tickets]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())

    everything = [
        ticket.pk for ticket in queue_page(user=agent, filters=QueueFilters(), size=50).tickets
    ]
    assert seen == everything
    assert len(seen) == 11


def test_views(customer, agent):
    senior = SeniorFactory()
    account_services.company_assign_agents(company=customer.company, dedicated=agent)
    mine = opened(customer, severity=3, minutes=0, subject="mine")
    services.ticket_assign(ticket=mine, assignee=agent, actor=agent)
    opened(customer, severity=3, minutes=1, subject="nobody's")
    escalated = opened(customer, severity=2, minutes=2, subject="escalated")
    services.ticket_assign(ticket=escalated, assignee=senior, actor=senior)
    services.ticket_escalate(ticket=escalated, reason="Hard", source="agent", requested_by=agent)
    other_company = make_ticket(
        requester=CustomerFactory(company=vip_company(name="Initech")), subject="elsewhere"
    )

    def view(name, user=agent):
        return set(subjects(queue_page(user=user, filters=QueueFilters(view=name))))

    assert view(View.MINE) == {"mine"}
    assert view(View.UNASSIGNED) == {"nobody's", other_company.subject}
    assert view(View.MY_VIP) == {"mine", "nobody's", "escalated"}
    assert view(View.TIER_2, senior) == {"escalated"}
    assert len(view(View.ALL)) == 4


def test_filters(customer, agent):
    opened(customer, severity=1, minutes=100, subject="critical")  # due 10:40 UTC
    late = opened(customer, severity=3, minutes=-600, subject="late")  # due 10:00 UTC
    opened(customer, severity=3, minutes=60, subject="fine")  # due 11:00 UTC

    with time_machine.travel(MONDAY_0900 + timedelta(minutes=150), tick=False):
        breached = subjects(queue_page(user=agent, filters=QueueFilters(breached_only=True)))
    assert breached == ["late"]
    assert subjects(queue_page(user=agent, filters=QueueFilters(severity=1))) == ["critical"]
    only_acme = queue_page(user=agent, filters=QueueFilters(company=late.company_id))
    assert len(only_acme.tickets) == 3


class TestPage:
    def test_rows_carry_ids_badges_and_countdowns(self, client_for, customer, agent):
        ticket = opened(customer, severity=1, minutes=0)

        with time_machine.travel(MONDAY_0900 + timedelta(minutes=50), tick=False):
            page = client_for(agent).get("/queue/").text

        assert f'<tr data-ticket-id="{ticket.pk}"' in page
        assert 'class="badge vip"' in page
        assert 'class="deadline warned"' in page
        assert "in 10m 00s" in page
        assert "Mon 10:00 CET" in page

    def test_a_breached_row_is_red(self, client_for, customer, agent):
        opened(customer, severity=1, minutes=0)

        with time_machine.travel(MONDAY_0900 + timedelta(hours=2), tick=False):
            page = client_for(agent).get("/queue/").text

        assert 'class="deadline breached"' in page
        assert "overdue by 1h 00m" in page

    def test_htmx_refresh_returns_only_the_rows(self, client_for, customer, agent):
        opened(customer, severity=3, minutes=0)

        response = client_for(agent).get("/queue/", headers={"HX-Request": "true"})

        assert response.text.lstrip().startswith("<tr")
        assert "<html" not in response.text

    def test_the_next_page_link_follows_the_cursor(self, client_for, customer, agent):
        for minutes in range(55):
            opened(customer, severity=3, minutes=minutes)
        client = client_for(agent)

        first = client.get("/queue/")
        link = first.text.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
        second = client.get("/queue/" + link)

        assert first.text.count("data-ticket-id=") == 50
        assert second.text.count("data-ticket-id=") == 5

    def test_garbage_parameters_are_ignored(self, client_for, agent):
        response = client_for(agent).get("/queue/?after=%%%&severity=x&view=nope&status=zzz")

        assert response.status_code == 200

    def test_query_count_is_constant(
        self, client_for, customer, agent, django_assert_max_num_queries
    ):
        client = client_for(agent)
        opened(customer, severity=3, minutes=0)
        # The session, the user and their role (four), the page's three, the bell's count and
        # the nav's three (chats, e-mails and voicemails waiting).
        with django_assert_max_num_queries(11) as few:
            client.get("/queue/")
        for minutes in range(40):
            opened(customer, severity=2, minutes=minutes)

        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get("/queue/").status_code == 200

    def test_seniors_start_on_the_tier_2_view(self, client_for, customer, agent):
        senior = SeniorFactory()
        normal = opened(customer, severity=3, minutes=0, subject="normal one")
        hot = opened(customer, severity=1, minutes=0, subject="hot one")
        services.ticket_escalate(ticket=hot, reason="Hard", source="agent", requested_by=agent)

        page = client_for(senior).get("/queue/").text

        assert "hot one" in page
        assert normal.subject not in page


def test_every_open_ticket_is_in_some_view(customer, agent):
    for minutes in range(3):
        opened(customer, severity=3, minutes=minutes)

    assert len(queue_page(user=agent, filters=QueueFilters()).tickets) == Ticket.objects.count()


def test_mail_received_while_closed_is_held_out_of_sight_until_the_desk_opens(client_for, customer):
    from zoneinfo import ZoneInfo

    from tickets.models import Channel

    berlin = ZoneInfo("Europe/Berlin")
    agent = AgentFactory(time_zone="Europe/Berlin")
    friday_evening = datetime(2026, 3, 13, 18, 30, tzinfo=berlin)
    with time_machine.travel(datetime(2026, 3, 14, 10, 0, tzinfo=berlin), tick=False):
        held = services.ticket_create(
            requester=customer,
            subject="Mailed on Friday evening",
            description="The VPN is down.",
            severity=2,
            channel=Channel.EMAIL,
            created_by=agent,
            at=friday_evening,
        )
        client = client_for(agent)
        everything = client.get("/queue/").text
        waiting = client.get("/queue/?view=held").text

    assert held.sla_clock_started_at == datetime(2026, 3, 16, 9, 0, tzinfo=berlin)
    assert "Mailed on Friday evening" not in everything
    assert "Mailed on Friday evening" in waiting
    assert "Held until Mon 09:00" in waiting
    with time_machine.travel(datetime(2026, 3, 16, 9, 5, tzinfo=berlin), tick=False):
        monday = client.get("/queue/").text
    assert "Mailed on Friday evening" in monday
    assert 'data-testid="held"' not in monday
