"""Phone numbers: stored in E.164 and validated, callers found by the number they call from, the
profile and admin pages that take them, and the support line on a VIP customer's home page."""

import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from accounts import selectors, services
from accounts.models import MANAGERS_GROUP, AgentProfile, CompanyPhoneNumber, User
from accounts.selectors import Caller, caller_identify
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    UserFactory,
    vip_company,
)

pytestmark = pytest.mark.django_db

SOFIA = "+35924001234"  # +359 2 400 1234, a Sofia landline
MOBILE = "+359881234567"  # +359 88 123 4567


# --- the models -------------------------------------------------------------------------------


def test_a_number_in_any_notation_is_stored_in_e164():
    user = CustomerFactory()

    services.user_set_phone_number(user=user, phone_number=" 088 123 4567 ")

    user.refresh_from_db()
    assert str(user.phone_number) == MOBILE
    assert User.objects.filter(phone_number=MOBILE).get() == user
    assert user.phone_number.as_international == "+359 88 123 4567"


@pytest.mark.parametrize("number", ["12345", "+359 12", "call me", "+1 555 0000"])
def test_an_invalid_number_is_refused_by_full_clean(number):
    user = CustomerFactory()
    user.phone_number = number

    with pytest.raises(ValidationError) as refused:
        user.full_clean(exclude=["password"])

    assert "phone_number" in refused.value.message_dict


def test_an_invalid_agent_or_company_number_is_refused():
    agent = AgentFactory()
    with pytest.raises(ValidationError) as refused:
        services.agent_set_phone_number(agent=agent, phone_number="0000")
    assert "phone_number" in refused.value.message_dict

    with pytest.raises(ValidationError) as refused:
        services.company_add_phone_number(company=CompanyFactory(), number="not a number")
    assert "number" in refused.value.message_dict
    assert not CompanyPhoneNumber.objects.exists()


def test_a_company_number_belongs_to_one_company_only():
    services.company_add_phone_number(company=CompanyFactory(), number=SOFIA, label="Switchboard")

    with pytest.raises(ValidationError) as refused:
        services.company_add_phone_number(company=CompanyFactory(), number="02 400 1234")

    assert "number" in refused.value.message_dict


def test_a_company_number_names_itself():
    line = services.company_add_phone_number(
        company=CompanyFactory(), number=SOFIA, label="Switchboard"
    )

    assert str(line) == "+359 2 400 1234 (Switchboard)"
    assert str(CompanyPhoneNumber(number=SOFIA)) == "+359 2 400 1234"


def test_an_agent_gets_a_phone_for_support_calls():
    agent = AgentFactory()

    services.agent_set_phone_number(agent=agent, phone_number="+359 88 765 4321")

    assert str(AgentProfile.objects.get(user=agent).phone_number) == "+359887654321"


# --- who is calling ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["+359 2 400 1234", "02 400 1234", "+35924001234", "tel:+359-2-400-1234"]
)
def test_a_customer_is_found_by_their_number_in_any_notation(number):
    customer = CustomerFactory(phone_number=SOFIA)

    assert caller_identify(number=number) == Caller(company=customer.company, user=customer)


def test_a_number_without_country_code_is_read_in_the_default_region(settings):
    customer = CustomerFactory(phone_number="+12125552368")

    settings.PHONENUMBER_DEFAULT_REGION = "US"
    assert caller_identify(number="(212) 555-2368").user == customer
    settings.PHONENUMBER_DEFAULT_REGION = "BG"
    assert caller_identify(number="(212) 555-2368").user is None


def test_a_company_number_identifies_the_company_only():
    company = CompanyFactory()
    services.company_add_phone_number(company=company, number=SOFIA, label="Switchboard")

    assert caller_identify(number="02 400 1234") == Caller(company=company, user=None)


def test_a_users_number_wins_over_a_company_number():
    switchboard_owner = CompanyFactory()
    services.company_add_phone_number(company=switchboard_owner, number=SOFIA)
    customer = CustomerFactory(phone_number=SOFIA)

    assert caller_identify(number=SOFIA) == Caller(company=customer.company, user=customer)


def test_inactive_users_are_ignored():
    company = CompanyFactory()
    services.company_add_phone_number(company=company, number=SOFIA)
    CustomerFactory(phone_number=SOFIA, is_active=False)
    CustomerFactory(phone_number=MOBILE, is_active=False)

    assert caller_identify(number=SOFIA) == Caller(company=company, user=None)
    assert caller_identify(number=MOBILE) == Caller(company=None, user=None)


def test_staff_never_match():
    AgentFactory(phone_number=SOFIA)
    services.agent_set_phone_number(agent=AgentFactory(), phone_number=SOFIA)
    UserFactory(phone_number=SOFIA, is_staff=True, is_superuser=True)
    # Even an account that belongs to a company is staff when it is in the managers' group, an
    # administrator or allowed into the admin site.
    CustomerFactory(phone_number=SOFIA).groups.add(Group.objects.get(name=MANAGERS_GROUP))
    CustomerFactory(phone_number=SOFIA, is_superuser=True)
    CustomerFactory(phone_number=MOBILE, is_staff=True)

    assert caller_identify(number=SOFIA) == Caller(company=None, user=None)
    assert caller_identify(number=MOBILE) == Caller(company=None, user=None)


def test_customers_sharing_a_number_give_their_company_but_nobody_in_it():
    company = CompanyFactory()
    CustomerFactory(company=company, phone_number=SOFIA)
    CustomerFactory(company=company, phone_number=SOFIA)

    assert caller_identify(number=SOFIA) == Caller(company=company, user=None)


def test_customers_of_two_companies_sharing_a_number_tell_nothing():
    CustomerFactory(phone_number=SOFIA)
    CustomerFactory(phone_number=SOFIA)

    assert caller_identify(number=SOFIA) == Caller(company=None, user=None)


def test_an_unknown_number_is_nobody():
    CustomerFactory(phone_number=SOFIA)

    assert caller_identify(number=MOBILE) == Caller(company=None, user=None)


@pytest.mark.parametrize(
    "number", ["", "anonymous", "+", "12", "+359 12", "x" * 300, "+1 555 0000"]
)
def test_an_unreadable_number_is_nobody_and_asks_nothing(number, django_assert_num_queries):
    CustomerFactory(phone_number=SOFIA)

    with django_assert_num_queries(0):
        assert caller_identify(number=number) == Caller(company=None, user=None)


def test_identifying_a_caller_takes_two_queries_at_most(django_assert_max_num_queries):
    company = CompanyFactory()
    services.company_add_phone_number(company=company, number=SOFIA)
    customer = CustomerFactory(phone_number=MOBILE)

    with django_assert_max_num_queries(1):
        caller = caller_identify(number=MOBILE)
        assert caller.company.name == customer.company.name
    with django_assert_max_num_queries(2):
        caller = caller_identify(number=SOFIA)
        assert caller.company.name == company.name


# --- the profile page -------------------------------------------------------------------------

PROFILE = reverse("accounts:profile")


def profile_data(**changes):
    return {
        "first_name": "Ana",
        "last_name": "Popova",
        "preferred_language": "en",
        "time_zone": "Europe/Sofia",
        "phone_number": "",
        **changes,
    }


def test_the_profile_saves_a_number_in_e164_and_shows_it_internationally(client_for):
    customer = CustomerFactory()
    client = client_for(customer)

    response = client.post(PROFILE, profile_data(phone_number="088 123 4567"), follow=True)

    customer.refresh_from_db()
    assert str(customer.phone_number) == MOBILE
    assert 'type="tel"' in response.text
    assert 'value="+359 88 123 4567"' in response.text


def test_the_profile_clears_a_number(client_for):
    customer = CustomerFactory(phone_number=MOBILE)

    client_for(customer).post(PROFILE, profile_data(phone_number=""))

    customer.refresh_from_db()
    assert customer.phone_number == ""


def test_an_invalid_number_is_refused_clearly_and_the_input_kept(client_for):
    customer = CustomerFactory(first_name="Ana", phone_number=MOBILE)

    response = client_for(customer).post(
        PROFILE, profile_data(first_name="Typed name", phone_number="0800 CALL ME")
    )

    assert response.status_code == 400
    assert "Enter a valid phone number (e.g. 02 123 456)" in response.text
    assert 'value="0800 CALL ME"' in response.text
    assert 'value="Typed name"' in response.text
    customer.refresh_from_db()
    assert (customer.first_name, str(customer.phone_number)) == ("Ana", MOBILE)


def test_the_refusal_speaks_the_visitors_language(client_for):
    customer = CustomerFactory(preferred_language="bg")

    response = client_for(customer).post(
        PROFILE, profile_data(preferred_language="bg", phone_number="12")
    )

    assert response.status_code == 400
    assert "Моля, въведете валиден телефонен номер" in response.text
    assert 'value="12"' in response.text


def test_a_profile_update_without_a_number_leaves_it_alone():
    customer = CustomerFactory(phone_number=MOBILE)

    services.user_update_profile(
        user=customer, first_name="Ana", last_name="", language="en", time_zone="Europe/Sofia"
    )

    customer.refresh_from_db()
    assert str(customer.phone_number) == MOBILE


# --- the customer home ------------------------------------------------------------------------


def text_of(page, testid):
    start = page.index(f'data-testid="{testid}"')
    fragment = page[page.index(">", start) + 1 : page.index("</section>", start)]
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def test_a_vip_customer_is_told_the_support_line_and_its_hours(client_for, settings):
    settings.SUPPORT_PHONE_NUMBER = "+35924001234"
    customer = CustomerFactory(company=vip_company(), time_zone="Europe/Sofia")

    with time_machine.travel("2027-03-16 12:00Z", tick=False):
        page = client_for(customer).get("/").text

    assert 'href="tel:+35924001234"' in page
    assert (
        "Support by phone Call us: +359 2 400 1234 — Mon–Fri 09:00–17:00 CET "
        "(your time: Mon–Fri 10:00–18:00); outside these hours your call goes to voicemail "
        "and we call you back."
    ) in text_of(page, "support-phone")
    assert "Add your phone number to your profile" in page


def test_a_vip_customer_with_a_number_is_told_it_is_recognised(client_for):
    customer = CustomerFactory(company=vip_company(), phone_number=MOBILE)

    page = client_for(customer).get("/").text

    assert "We recognise you when you call from +359 88 123 4567" in page


def test_a_customer_without_the_addon_sees_no_phone_line(client_for, settings):
    settings.SUPPORT_PHONE_NUMBER = "+35924001234"
    customer = CustomerFactory(company=CompanyFactory(), phone_number=MOBILE)

    page = client_for(customer).get("/").text

    assert 'data-testid="support-phone"' not in page
    assert "tel:" not in page
    assert "+359 2 400 1234" not in page


def test_no_support_line_configured_shows_no_card(client_for, settings):
    settings.SUPPORT_PHONE_NUMBER = ""
    customer = CustomerFactory(company=vip_company())

    assert 'data-testid="support-phone"' not in client_for(customer).get("/").text
    assert selectors.support_phone_number() is None


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client_for):
    return client_for(UserFactory(is_superuser=True, is_staff=True))


def test_the_company_admin_lists_and_adds_its_phone_numbers(admin_client):
    company = CompanyFactory(name="Acme Ltd")
    services.company_add_phone_number(company=company, number=SOFIA, label="Switchboard")
    url = reverse("admin:accounts_company_change", args=[company.pk])

    page = admin_client.get(url)

    assert page.status_code == 200
    assert "company phone numbers" in page.text.lower()
    assert 'value="Switchboard"' in page.text


def test_the_user_admin_edits_the_phone_number(admin_client):
    customer = CustomerFactory(phone_number=MOBILE)

    page = admin_client.get(reverse("admin:accounts_user_change", args=[customer.pk]))

    assert page.status_code == 200
    assert 'name="phone_number"' in page.text
    found = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "+35988123"})
    assert customer.email in found.text


def test_the_agent_profile_admin_shows_the_phone_for_support_calls(admin_client):
    agent = AgentFactory()
    services.agent_set_phone_number(agent=agent, phone_number="+359 88 765 4321")

    listing = admin_client.get(reverse("admin:accounts_agentprofile_changelist"))
    change = admin_client.get(
        reverse("admin:accounts_agentprofile_change", args=[agent.agent_profile.pk])
    )

    assert listing.status_code == change.status_code == 200
    assert "+359887654321" in listing.text
    assert 'name="phone_number"' in change.text


# --- demo data --------------------------------------------------------------------------------


def test_seed_demo_gives_the_phone_channel_its_numbers_once():
    call_command("seed_demo")
    call_command("seed_demo")

    customer = User.objects.get(email="customer@acme.example")
    assert caller_identify(number="+359 88 123 4567") == Caller(customer.company, customer)
    assert caller_identify(number="+359 2 491 2000") == Caller(customer.company, None)
    assert CompanyPhoneNumber.objects.get().label == "Switchboard"
    phones = {
        profile.user.email: str(profile.phone_number)
        for profile in AgentProfile.objects.select_related("user")
    }
    assert phones == {
        "agent@support.example": "+359887654321",
        "senior@support.example": "+359885550101",
    }
