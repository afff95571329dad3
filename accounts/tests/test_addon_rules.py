import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts import selectors, services
from accounts.models import AddOnSubscription, PlanSubscription
from accounts.tests.factories import (
    CompanyFactory,
    all_inclusive,
    dedicated_addon,
    standard,
    vip_company,
)

pytestmark = pytest.mark.django_db


def test_addon_price_is_copied_from_the_stored_addon():
    addon = dedicated_addon()
    addon.monthly_price = "1250.00"
    addon.save()
    company = CompanyFactory(plan=all_inclusive())

    subscription = services.addon_subscribe(company=company)

    assert str(subscription.monthly_price) == "1250.00"
    assert subscription.currency == "EUR"


def test_seeded_addon_costs_1000_eur_and_is_offered_only_on_all_inclusive():
    addon = dedicated_addon()
    assert (str(addon.monthly_price), addon.currency) == ("1000.00", "EUR")
    assert [plan.code for plan in addon.plans.all()] == ["all-inclusive"]


def test_a_company_on_a_lower_plan_cannot_take_the_addon():
    company = CompanyFactory(name="Globex", plan=standard())

    with pytest.raises(ValidationError) as error:
        services.addon_subscribe(company=company)

    assert "only available on All-inclusive; Globex is on Standard" in str(error.value)
    assert not AddOnSubscription.objects.exists()


def test_at_most_one_active_addon_per_company():
    company = vip_company(name="Acme")

    with pytest.raises(ValidationError) as error:
        services.addon_subscribe(company=company)

    assert "already has the Dedicated support agent add-on" in str(error.value)
    assert AddOnSubscription.objects.filter(company=company).count() == 1


def test_an_addon_starting_after_the_previous_one_ended_is_allowed():
    company = vip_company()
    services.addon_end(
        subscription=company.addon_subscriptions.get(), ends_on=datetime.date(2021, 1, 1)
    )

    services.addon_subscribe(company=company, starts_on=datetime.date(2021, 6, 1))

    assert company.addon_subscriptions.count() == 2


def test_overlapping_a_closed_period_is_refused():
    company = vip_company()
    services.addon_end(
        subscription=company.addon_subscriptions.get(), ends_on=datetime.date(2021, 1, 1)
    )

    with pytest.raises(ValidationError):
        services.addon_subscribe(company=company, starts_on=datetime.date(2020, 6, 1))


def test_moving_a_company_with_the_addon_to_a_lower_plan_is_refused_and_changes_nothing():
    company = vip_company(name="Acme")

    with pytest.raises(ValidationError) as error:
        services.company_change_plan(company=company, plan=standard())

    assert error.value.message_dict["plan"] == [
        "Acme has the Dedicated support agent add-on, which Standard does not offer. "
        "End the add-on before moving to this plan."
    ]
    assert selectors.company_current_plan(company=company) == all_inclusive()
    assert PlanSubscription.objects.filter(company=company).count() == 1


def test_after_the_addon_ends_the_company_can_move_down():
    company = vip_company()
    services.addon_end(subscription=company.addon_subscriptions.get())

    services.company_change_plan(company=company, plan=standard())

    assert selectors.company_current_plan(company=company) == standard()
    history = list(company.plan_subscriptions.order_by("started_on"))
    assert [row.plan.code for row in history] == ["all-inclusive", "standard"]
    assert history[0].ended_on == history[1].started_on


def test_moving_up_keeps_plan_history():
    company = CompanyFactory(plan=standard())

    services.company_change_plan(company=company, plan=all_inclusive())

    assert selectors.company_current_plan(company=company) == all_inclusive()
    assert company.plan_subscriptions.filter(ended_on__isnull=False).count() == 1


def test_model_validation_gives_the_admin_the_same_message():
    company = vip_company(name="Acme")
    company.plan_subscriptions.update(ended_on=datetime.date(2024, 1, 1))
    downgrade = PlanSubscription(
        company=company, plan=standard(), started_on=datetime.date(2024, 1, 1)
    )

    with pytest.raises(ValidationError) as error:
        downgrade.full_clean()

    assert "which Standard does not offer" in str(error.value)
