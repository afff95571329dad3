"""Give the demo companies a few tickets in every state; it does nothing where tickets exist."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tickets import services
from tickets.models import Channel, Status, Ticket

HOUR = datetime.timedelta(hours=1)


class Command(BaseCommand):
    help = "Create demo tickets for the seed_demo companies (run seed_demo first)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        alice = User.objects.get(email="customer@acme.example")
        bob = User.objects.get(email="basic@globex.example")
        agent = User.objects.get(email="agent@support.example")
        if Ticket.objects.filter(company__in=[alice.company_id, bob.company_id]).exists():
            self.stdout.write("Demo tickets already exist; nothing to do.")
            return
        now = timezone.now()
        services.ticket_create(
            requester=alice,
            subject="Nobody can log in to the admin console",
            description="Since this morning every login ends on an error page.",
            severity=1,
            at=now - 2 * HOUR,
        )
        slow = services.ticket_create(
            requester=alice,
            subject="New e-mails are not arriving in the shared inbox",
            description="The **support@** inbox has received nothing since yesterday 18:00.",
            severity=3,
            channel=Channel.EMAIL,
            at=now - 5 * HOUR,
        )
        services.ticket_reply(
            ticket=slow,
            author=agent,
            body="We are checking the mail relay and will update you shortly.",
            at=now - 4 * HOUR,
        )
        question = services.ticket_create(
            requester=alice,
            subject="How do we set up an automation rule for VIP customers?",
            description="We want tickets from our key accounts tagged automatically.",
            severity=5,
            at=now - 26 * HOUR,
        )
        services.ticket_reply(
            ticket=question,
            author=agent,
            body="Which field identifies your key accounts: the domain or a custom field?",
            new_status=Status.WAITING,
            at=now - 25 * HOUR,
        )
        services.ticket_create(
            requester=bob,
            subject="Export to CSV is slow",
            description="Exporting last month's tickets takes several minutes.",
            severity=2,
            at=now - HOUR,
        )
        self.stdout.write(self.style.SUCCESS("Demo tickets created."))
