"""Test data for scheduling; bookings go through `booking_create`, so they obey every rule."""

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import factory
from factory.django import DjangoModelFactory

from accounts import services as account_services
from accounts.models import Company, User
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company
from scheduling.models import AgentSchedule, Booking, CallType, TimeOff
from scheduling.services import availability, bookings

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2026-11-30, 08:00 in Berlin (CET): an hour before the agent's day starts.
NOW = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
# The customers' own number (their profile's), which bookings take unless told otherwise.
CUSTOMER_NUMBER = "+359 88 123 4567"


def berlin(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime.datetime:
    """An instant in Berlin in the weeks the tests use (December 2026 unless told)."""
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def call_type(code: str = "support") -> CallType:
    """One of the seeded call types: support (30 min), training or analysis (60 min)."""
    return CallType.objects.get(code=code)


class CallTypeFactory(DjangoModelFactory[CallType]):
    class Meta:
        model = CallType
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"call-{n}")
    name = factory.LazyAttribute(lambda row: row.code.title())


@dataclass
class People:
    company: Company
    customer: User
    agent: User
    backup: User


def vip_people(name: str = "Acme Ltd") -> People:
    """A VIP company with a customer, its dedicated agent and its backup (a senior)."""
    company = vip_company(name=name)
    agent: User = AgentFactory()  # type: ignore[assignment]
    backup: User = SeniorFactory()  # type: ignore[assignment]
    account_services.company_assign_agents(company=company, dedicated=agent, backup=backup)
    customer: User = CustomerFactory(  # type: ignore[assignment]
        company=company, phone_number=CUSTOMER_NUMBER
    )
    return People(company=company, customer=customer, agent=agent, backup=backup)


def schedule_for(agent: User, **changes: Any) -> AgentSchedule:
    """The agent's schedule (support desk hours), with field changes saved."""
    schedule = availability.agent_schedule_get_or_create(agent=agent)
    for name, value in changes.items():
        setattr(schedule, name, value)
    if changes:
        schedule.full_clean()
        schedule.save()
    return schedule


def time_off(agent: User, starts_at: datetime.datetime, ends_at: datetime.datetime) -> TimeOff:
    row = TimeOff(schedule=schedule_for(agent), starts_at=starts_at, ends_at=ends_at)
    row.full_clean()
    row.save()
    return row


def make_booking(
    people: People,
    starts_at: datetime.datetime,
    *,
    code: str = "support",
    now: datetime.datetime = NOW,
    agent: User | None = None,
    customer: User | None = None,
    topic: str = "Mail flow rules",
    phone_number: str = CUSTOMER_NUMBER,
    **kwargs: Any,
) -> Booking:
    return bookings.booking_create(
        customer=customer or people.customer,
        agent=agent or people.agent,
        call_type=call_type(code),
        starts_at=starts_at,
        topic=topic,
        phone_number=phone_number,
        now=now,
        **kwargs,
    )
