import datetime
import re

import pytest
import time_machine

from accounts import services
from accounts.models import AgentProfile
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    SeniorFactory,
    vip_company,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    company = vip_company(name="Acme Ltd")
    agent = AgentFactory(first_name="Maria", last_name="Ivanova")
    senior = SeniorFactory(first_name="Georgi", last_name="Petrov")
    services.company_assign_agents(company=company, dedicated=agent, backup=senior)
    return company


def home(client_for, user):
    response = client_for(user).get("/")
    assert response.status_code == 200
    return response.text


def test_vip_customer_sees_the_dedicated_agent_card(client_for, acme):
    page = home(client_for, CustomerFactory(company=acme))

    assert 'data-testid="agent-card"' in page
    assert "Maria Ivanova" in page
    assert ">MI<" in page
    assert "Tier 1 agent" in page
    assert "Mon–Fri 09:00–17:00 CET" in page


def test_another_company_sees_neither_the_agent_nor_the_card(client_for, acme):
    page = home(client_for, CustomerFactory(company=CompanyFactory(name="Globex")))

    assert "Maria Ivanova" not in page
    assert "Acme" not in page
    assert 'data-testid="addon-offer"' in page
    assert "Only on All-inclusive, for 1000 € per month." in page


def test_two_vip_companies_each_see_only_their_own_agent(client_for, acme):
    other = vip_company(name="Initech")
    services.company_assign_agents(
        company=other, dedicated=AgentFactory(first_name="Ivan", last_name="Kolev")
    )

    page = home(client_for, CustomerFactory(company=other))

    assert "Ivan Kolev" in page
    assert "Maria Ivanova" not in page


def test_the_backup_stands_in_while_the_dedicated_agent_is_away(client_for, acme):
    AgentProfile.objects.filter(user__first_name="Maria").update(
        away_until=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
    )

    page = home(client_for, CustomerFactory(company=acme))

    assert "Georgi Petrov" in page
    assert "Standing in while Maria Ivanova is away." in page


def test_a_vip_company_without_an_agent_yet_is_told_so(client_for):
    page = home(client_for, CustomerFactory(company=vip_company()))

    assert 'data-testid="agent-pending"' in page


def status_at(client_for, customer, instant):
    with time_machine.travel(instant, tick=False):
        page = home(client_for, customer)
    start = page.index('data-testid="agent-status">')
    fragment = page[start + len('data-testid="agent-status">') : page.index("</dd>", start)]
    return " ".join(re.sub(r"<[^>]+>", "", fragment).split())


@pytest.mark.parametrize(
    ("instant", "status"),
    [
        # Friday 2026-10-23, CEST (UTC+2).
        ("2026-10-23 14:59Z", "Available now"),
        ("2026-10-23 15:00Z", "Back Mon 09:00 CET"),
        # Saturday of the weekend clocks go back: Monday is already CET (UTC+1).
        ("2026-10-24 10:00Z", "Back Mon 09:00 CET"),
        ("2026-10-26 07:59Z", "Back Mon 09:00 CET"),
        ("2026-10-26 08:00Z", "Available now"),
        # The spring switch: Monday 2027-03-29 09:00 CEST is 07:00 UTC.
        ("2027-03-26 15:59Z", "Available now"),
        ("2027-03-26 16:00Z", "Back Mon 09:00 CEST"),
        ("2027-03-29 06:59Z", "Back Mon 09:00 CEST"),
        ("2027-03-29 07:00Z", "Available now"),
    ],
)
def test_agent_status_at_frozen_times(client_for, acme, instant, status):
    customer = CustomerFactory(company=acme, time_zone="Europe/Berlin")

    assert status_at(client_for, customer, instant) == status


def test_status_is_shown_in_the_viewers_own_zone(client_for, acme):
    customer = CustomerFactory(company=acme, time_zone="America/New_York")

    assert status_at(client_for, customer, "2027-03-27 12:00Z") == "Back Mon 03:00 EDT"


def local_hours_at(client_for, customer, instant):
    with time_machine.travel(instant, tick=False):
        page = home(client_for, customer)
    start = page.index('data-testid="local-hours">') + len('data-testid="local-hours">')
    return page[start : page.index("</dd>", start)]


@pytest.mark.parametrize(
    ("zone", "instant", "hours"),
    [
        ("Europe/Berlin", "2027-03-16 12:00Z", "Mon–Fri 09:00–17:00"),
        ("Europe/Sofia", "2027-03-16 12:00Z", "Mon–Fri 10:00–18:00"),
        # New York is on summer time two weeks before Berlin.
        ("America/New_York", "2027-03-16 12:00Z", "Mon–Fri 04:00–12:00"),
        ("America/New_York", "2027-03-30 12:00Z", "Mon–Fri 03:00–11:00"),
        ("Pacific/Honolulu", "2027-03-16 12:00Z", "Sun–Thu 22:00–06:00 (next day)"),
    ],
)
def test_contact_hours_in_the_viewers_zone(client_for, acme, zone, instant, hours):
    customer = CustomerFactory(company=acme, time_zone=zone)

    assert local_hours_at(client_for, customer, instant) == hours


def test_home_query_count_is_constant(client_for, acme, django_assert_max_num_queries):
    client = client_for(CustomerFactory(company=acme))
    for _ in range(5):
        CustomerFactory(company=acme)

    with django_assert_max_num_queries(12):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Europe/Berlin", "Pacific/Kiritimati"])
def test_on_the_day_the_addon_starts_every_zone_sees_it(client_for, zone):
    """Add-on days are the support desk's (Berlin) days, whatever the viewer's zone."""
    from accounts.tests.factories import all_inclusive

    company = CompanyFactory(name="Initech", plan=all_inclusive())
    services.addon_subscribe(company=company, starts_on=datetime.date(2026, 12, 7))
    services.company_assign_agents(
        company=company,
        dedicated=AgentFactory(first_name="Ivan", last_name="Kolev"),
        now=datetime.datetime(2026, 12, 6, 23, 0, tzinfo=datetime.UTC),  # 00:00 in Berlin
    )
    customer = CustomerFactory(company=company, time_zone=zone)

    # Monday 7 December 00:30 in Berlin: still Sunday the 6th in Etc/GMT+12 (UTC-12).
    with time_machine.travel(datetime.datetime(2026, 12, 6, 23, 30, tzinfo=datetime.UTC)):
        page = home(client_for, customer)

    assert 'data-testid="agent-card"' in page
    assert 'data-testid="addon-offer"' not in page


def mail_addresses_at(client_for, customer, instant):
    with time_machine.travel(instant, tick=False):
        page = home(client_for, customer)
    start = page.index('data-testid="mail-addresses"')
    fragment = page[page.index(">", start) + 1 : page.index("</section>", start)]
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def test_a_vip_customer_is_told_the_dedicated_address_and_its_hours(client_for, acme):
    customer = CustomerFactory(company=acme, time_zone="Europe/Sofia")

    text = mail_addresses_at(client_for, customer, "2027-03-16 12:00Z")

    assert (
        "E-mail your dedicated agent: acme-ltd@vip.support.example — answered "
        "Mon–Fri 09:00–17:00 CET (your time: Mon–Fri 10:00–18:00)"
    ) in text
    assert "General support: support@support.example" in text
    page = home(client_for, customer)
    assert 'href="mailto:acme-ltd@vip.support.example"' in page


def test_a_customer_without_the_addon_is_told_only_the_general_address(client_for, acme):
    customer = CustomerFactory(company=CompanyFactory(name="Globex"))

    text = mail_addresses_at(client_for, customer, "2027-03-16 12:00Z")

    assert text == "Support by e-mail General support: support@support.example"
    assert "vip.support.example" not in home(client_for, customer)
