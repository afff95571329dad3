"""Give every agent a schedule and the demo customer a booked call; a rerun adds nothing."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Company, User
from scheduling.models import Booking, BookingStatus, CallType
from scheduling.selectors import company_call_agent
from scheduling.services import availability, bookings

DEMO_CUSTOMER = "customer@acme.example"
DEMO_TOPIC = "Training for two new administrators"
# The number the agent calls when the demo customer has none in their profile.
DEMO_NUMBER = "+359 88 123 4567"


class Command(BaseCommand):
    help = "Create agents' call schedules and one upcoming demo call (after seed_demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        for agent in User.objects.filter(agent_profile__isnull=False):
            availability.agent_schedule_get_or_create(agent=agent)
        customer = User.objects.filter(email=DEMO_CUSTOMER).select_related("company").first()
        if customer is None or customer.company is None:
            raise CommandError("Run seed_demo first: the demo customer is missing.")
        now = timezone.now()
        upcoming = Booking.objects.filter(
            company=customer.company, status=BookingStatus.CONFIRMED, starts_at__gt=now
        )
        if not upcoming.exists():
            self._book_training(customer, customer.company, now)
        self.stdout.write(self.style.SUCCESS("Demo calls are ready."))

    def _book_training(self, customer: User, company: Company, now: datetime.datetime) -> None:
        training = CallType.objects.get(code="training")
        terms = bookings.CallTerms.of(training)
        around = now + datetime.timedelta(days=3)
        agent = company_call_agent(
            company=company, starts_at=around, ends_at=around + terms.duration
        )
        if agent is None:
            raise CommandError("Acme has no agent to take calls; run seed_demo first.")
        starts = bookings.nearest_free_starts(agent, terms, around, now=now, count=1)
        if not starts:
            raise CommandError(f"{agent} has no free time for a demo call in the next month.")
        bookings.booking_create(
            customer=customer,
            agent=agent,
            call_type=training,
            starts_at=starts[0],
            topic=DEMO_TOPIC,
            phone_number=customer.phone_number or DEMO_NUMBER,
            now=now,
        )
