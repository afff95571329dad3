"""factory-boy factories for accounts; they go through the same rules as the services."""

import datetime
from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory

from accounts import services
from accounts.models import AddOn, AgentProfile, Company, Plan, Tier, User


class PlanFactory(DjangoModelFactory[Plan]):
    class Meta:
        model = Plan
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda plan: plan.code.title())
    monthly_price = Decimal("99.00")


def all_inclusive() -> Plan:
    return Plan.objects.get(code="all-inclusive")


def standard() -> Plan:
    return Plan.objects.get(code="standard")


class CompanyFactory(DjangoModelFactory[Company]):
    class Meta:
        model = Company
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n}")

    @classmethod
    def _create(cls, model_class: type[Company], *args: Any, **kwargs: Any) -> Company:
        plan = kwargs.pop("plan", None) or standard()
        started_on = kwargs.pop("started_on", None) or datetime.date(2020, 1, 1)
        return services.company_create(name=kwargs["name"], plan=plan, started_on=started_on)


def vip_company(**kwargs: Any) -> Company:
    """A company on All-inclusive with an active dedicated-agent add-on."""
    company: Company = CompanyFactory(plan=all_inclusive(), **kwargs)  # type: ignore[assignment]
    services.addon_subscribe(company=company, starts_on=datetime.date(2020, 1, 1))
    return company


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("demo")


class CustomerFactory(UserFactory):
    company = factory.SubFactory(CompanyFactory)


class AgentFactory(UserFactory):
    profile = factory.RelatedFactory(
        "accounts.tests.factories.AgentProfileFactory", factory_related_name="user"
    )


class SeniorFactory(UserFactory):
    profile = factory.RelatedFactory(
        "accounts.tests.factories.AgentProfileFactory",
        factory_related_name="user",
        tier=Tier.SENIOR,
    )


class AgentProfileFactory(DjangoModelFactory[AgentProfile]):
    class Meta:
        model = AgentProfile

    user = factory.SubFactory(UserFactory)
    tier = Tier.AGENT


def dedicated_addon() -> AddOn:
    return AddOn.objects.get(code=AddOn.DEDICATED_AGENT)
