"""Upgrading to the one outbox: call e-mails still pending in the old table go on through it."""

from collections.abc import Iterator

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from icalendar import Calendar

from outbox.models import Email, EmailState
from scheduling.emails import CallEmailKind, call_email_topic
from scheduling.services import bookings
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people

BEFORE = ("scheduling", "0008_moments_from_services")
AFTER = ("scheduling", "0009_call_emails_through_the_outbox")


def latest() -> tuple[str, str]:
    """Scheduling's newest migration, which the rest of the suite runs on."""
    [leaf] = MigrationExecutor(connection).loader.graph.leaf_nodes("scheduling")
    return leaf


def migrate(target: tuple[str, str]):
    """Migrate scheduling to `target`; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.fixture
def before_the_outbox() -> Iterator[None]:
    """The database as it was with scheduling's own outbox; migrated back afterwards."""
    try:
        yield
    finally:
        migrate(latest())


@pytest.mark.django_db(transaction=True)
def test_pending_call_e_mails_are_carried_over_and_sent_ones_are_not(
    before_the_outbox, eager_tasks
):
    people = vip_people()
    booking = make_booking(people, berlin(1, 10), now=NOW)
    bookings.booking_reschedule(
        booking=booking, starts_at=berlin(2, 14), by=people.customer, now=NOW
    )
    Email.objects.all().delete()  # written by today's services: the old database had none
    mail.outbox.clear()
    CallEmail = migrate(BEFORE).get_model("scheduling", "CallEmail")
    row = {"booking_id": booking.pk, "next_attempt_at": NOW, "created_at": NOW}
    CallEmail.objects.bulk_create(
        [
            # Superseded by the move: the old sender would have dropped it.
            CallEmail(**row, recipient_id=people.agent.pk, kind="invitation", sequence=0),
            # The move's invitation: the customer's went out, the agent's was being retried.
            CallEmail(
                **row, recipient_id=people.customer.pk, kind="invitation", sequence=1, state="sent"
            ),
            CallEmail(
                **row, recipient_id=people.agent.pk, kind="invitation", sequence=1, attempts=2
            ),
            CallEmail(**row, recipient_id=people.customer.pk, kind="day_reminder", sequence=1),
        ]
    )

    migrate(AFTER)

    sent = {(message.to[0], message.subject.split(":")[0]) for message in mail.outbox}
    assert sent == {
        (people.agent.email, "[VIP Support] Call moved"),
        (people.customer.email, "Reminder"),
    }
    [invitation] = [message for message in mail.outbox if message.to == [people.agent.email]]
    [event] = Calendar.from_ical(invitation.alternatives[0].content).walk("VEVENT")
    assert event.decoded("sequence") == 1
    carried = Email.objects.values_list("topic", "to", "state", "expires_at")
    assert sorted(carried) == sorted(
        [
            (
                call_email_topic(booking_id=booking.pk, kind=CallEmailKind.INVITATION),
                people.agent.email,
                EmailState.SENT,
                None,
            ),
            (
                call_email_topic(booking_id=booking.pk, kind=CallEmailKind.DAY_REMINDER),
                people.customer.email,
                EmailState.SENT,
                berlin(2, 13),
            ),
        ]
    )
