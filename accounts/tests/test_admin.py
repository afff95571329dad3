import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts import services
from accounts.models import AssignmentRole, DedicatedAssignment, PlanSubscription
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
    dedicated_addon,
    standard,
    vip_company,
)
from desk.selectors import desk_date

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client_for):
    return client_for(UserFactory(is_superuser=True, is_staff=True))


@pytest.fixture
def populated():
    company = vip_company(name="Acme Ltd")
    agent = AgentFactory()
    services.company_assign_agents(company=company, dedicated=agent, backup=SeniorFactory())
    CustomerFactory(company=company)
    return company


def test_company_page_shows_the_assignment_history(admin_client, populated):
    response = admin_client.get(reverse("admin:accounts_company_change", args=[populated.pk]))

    assert "dedicated assignment history" in response.text.lower()


def test_user_autocomplete_for_companies(admin_client, populated):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "user", "field_name": "company", "term": "Acme"},
    )

    assert response.status_code == 200
    assert response.json()["results"][0]["text"] == "Acme Ltd"


def test_assign_action_asks_for_agents_then_assigns_through_the_service(admin_client, populated):
    agent, senior = AgentFactory(), SeniorFactory()
    url = reverse("admin:accounts_company_changelist")
    selection = {"action": "assign_agents", ACTION_CHECKBOX_NAME: [populated.pk]}

    form_page = admin_client.post(url, selection)
    assert form_page.status_code == 200
    assert "Dedicated agent" in form_page.text

    response = admin_client.post(
        url, {**selection, "apply": "1", "dedicated": agent.pk, "backup": senior.pk}, follow=True
    )

    assert "Acme Ltd: done." in response.text
    current = {
        row.role: row.agent
        for row in DedicatedAssignment.objects.filter(company=populated).current()
    }
    assert current == {AssignmentRole.DEDICATED: agent, AssignmentRole.BACKUP: senior}
    assert DedicatedAssignment.objects.filter(company=populated).count() == 4


def test_assign_action_shows_the_services_refusal(admin_client):
    globex = CompanyFactory(name="Globex")
    url = reverse("admin:accounts_company_changelist")

    response = admin_client.post(
        url,
        {
            "action": "assign_agents",
            ACTION_CHECKBOX_NAME: [globex.pk],
            "apply": "1",
            "dedicated": AgentFactory().pk,
        },
        follow=True,
    )

    assert "Globex has no active dedicated-agent add-on" in response.text
    assert not DedicatedAssignment.objects.exists()


def test_change_plan_action_refuses_a_downgrade_with_the_addon(admin_client, populated):
    response = admin_client.post(
        reverse("admin:accounts_company_changelist"),
        {
            "action": "change_plan",
            ACTION_CHECKBOX_NAME: [populated.pk],
            "apply": "1",
            "plan": standard().pk,
        },
        follow=True,
    )

    assert "which Standard does not offer" in response.text
    assert PlanSubscription.objects.filter(company=populated).count() == 1


def test_adding_the_addon_in_the_admin_to_a_lower_plan_shows_the_rule(admin_client):
    globex = CompanyFactory(name="Globex")
    url = reverse("admin:accounts_addonsubscription_add")

    response = admin_client.post(
        url,
        {
            "company": globex.pk,
            "addon": dedicated_addon().pk,
            "starts_on": "2026-01-01",
            "currency": "EUR",
        },
    )

    assert response.status_code == 200
    assert "only available on All-inclusive; Globex is on Standard" in response.text


def test_ending_the_addon_in_the_admin_closes_the_dedicated_assignments(admin_client, populated):
    from accounts.models import AddOnSubscription

    subscription = AddOnSubscription.objects.get(company=populated)
    url = reverse("admin:accounts_addonsubscription_change", args=[subscription.pk])
    assert admin_client.get(url).status_code == 200

    # Ending it today (the desk's today, whatever day the suite runs) closes them at once.
    today = desk_date()
    response = admin_client.post(url, {"ends_on": today.isoformat()})

    assert response.status_code == 302, response.context["adminform"].form.errors
    subscription.refresh_from_db()
    assert subscription.ends_on == today
    assert not DedicatedAssignment.objects.filter(company=populated, valid_to__isnull=True)


def test_an_addon_added_in_the_admin_goes_through_the_service_at_the_addons_price(admin_client):
    from accounts.models import AddOnSubscription
    from accounts.tests.factories import all_inclusive

    company = CompanyFactory(name="Initech", plan=all_inclusive())
    addon = dedicated_addon()

    response = admin_client.post(
        reverse("admin:accounts_addonsubscription_add"),
        {"company": company.pk, "addon": addon.pk, "starts_on": "2026-12-01"},
    )

    assert response.status_code == 302
    subscription = AddOnSubscription.objects.get(company=company)
    assert (subscription.monthly_price, subscription.currency) == (
        addon.monthly_price,
        addon.currency,
    )


def test_the_admin_refuses_an_addon_the_plan_does_not_offer_with_a_message(admin_client):
    from accounts.models import AddOnSubscription

    company = CompanyFactory(name="Globex", plan=standard())

    response = admin_client.post(
        reverse("admin:accounts_addonsubscription_add"),
        {"company": company.pk, "addon": dedicated_addon().pk, "starts_on": "2026-12-01"},
    )

    assert response.status_code == 200
    assert "only available on" in response.text
    assert not AddOnSubscription.objects.filter(company=company).exists()


def test_add_on_history_cannot_be_deleted_or_edited_on_the_company_page(admin_client, populated):
    from accounts.models import AddOnSubscription

    subscription = AddOnSubscription.objects.get(company=populated)
    delete = reverse("admin:accounts_addonsubscription_delete", args=[subscription.pk])

    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    page = admin_client.get(reverse("admin:accounts_company_change", args=[populated.pk])).text
    assert 'name="addon_subscriptions-0-ends_on"' not in page
