"""Call reminders: 24 hours and 1 hour before, each exactly once, never late, in each reader's
language and zone. The scan writes them to the outbox; `scan` then runs the outbox's sender at the
same moment, as the task each scan's commit enqueues does."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, transaction

from outbox.models import Email, EmailState
from outbox.services import emails_send_pending
from scheduling import tasks
from scheduling.emails import CallEmailKind
from scheduling.models import Booking
from scheduling.services import bookings
from scheduling.services.reminders import Reminder, reminder_queue_one, reminders_queue_due
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def people():
    return vip_people()


def book(people, starts_at, **kwargs) -> Booking:
    """A booking whose invitations have gone out already: these tests read only reminders."""
    booking = make_booking(people, starts_at, **kwargs)
    emails_send_pending(now=NOW)
    mail.outbox.clear()
    return booking


def scan(*, now: datetime.datetime) -> int:
    """One reminder scan and the outbox run after it; how many calls it reminded."""
    reminded = reminders_queue_due(now=now)
    emails_send_pending(now=now)
    return reminded


def day_reminders():
    return Email.objects.filter(topic__endswith=f":{CallEmailKind.DAY_REMINDER}")


@pytest.fixture
def booking(people):
    # Tuesday 2026-12-01 10:00 Berlin, booked on Monday 08:00.
    return book(people, berlin(1, 10), code="training", topic="Onboarding new admins")


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_nothing_is_sent_before_the_day_reminder_is_due(booking):
    assert scan(now=booking.starts_at - 24 * HOUR - MINUTE) == 0
    assert mail.outbox == []


def test_the_day_reminder_goes_to_customer_and_agent_once(booking, people):
    due = booking.starts_at - 24 * HOUR

    assert scan(now=due) == 1
    assert scan(now=due + MINUTE) == 0  # a repeated scan sends nothing

    assert recipients() == sorted([people.customer.email, people.agent.email])
    booking.refresh_from_db()
    assert booking.day_reminder_sent_at == due
    assert booking.hour_reminder_sent_at is None


def test_the_hour_reminder_follows_and_the_day_one_is_not_repeated(booking):
    scan(now=booking.starts_at - 20 * HOUR)
    mail.outbox.clear()

    assert scan(now=booking.starts_at - 2 * HOUR) == 0
    assert scan(now=booking.starts_at - HOUR) == 1
    assert scan(now=booking.starts_at - 30 * MINUTE) == 0

    assert len(mail.outbox) == 2
    booking.refresh_from_db()
    assert booking.hour_reminder_sent_at == booking.starts_at - HOUR


def test_a_missed_day_reminder_is_skipped_when_less_than_an_hour_remains(booking):
    # The scanner was down all day: with 40 minutes left only the 1-hour reminder makes sense.
    assert scan(now=booking.starts_at - 40 * MINUTE) == 1

    booking.refresh_from_db()
    assert booking.day_reminder_sent_at is None
    assert booking.hour_reminder_sent_at is not None
    assert all("40\xa0minutes" in message.body for message in mail.outbox)


def test_no_reminder_once_the_call_has_started(booking):
    assert scan(now=booking.starts_at) == 0
    assert scan(now=booking.starts_at + 5 * MINUTE) == 0
    assert mail.outbox == []


def test_cancelled_calls_get_no_reminder(booking, people):
    bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

    assert scan(now=booking.starts_at - 23 * HOUR) == 0
    assert scan(now=booking.starts_at - 30 * MINUTE) == 0


def test_moving_a_call_makes_its_reminders_due_again_for_the_new_time(booking, people):
    scan(now=booking.starts_at - 23 * HOUR)  # Monday 11:00
    moved = bookings.booking_reschedule(
        booking=booking, starts_at=berlin(3, 14), by=people.customer, now=berlin(30, 11, month=11)
    )
    assert moved.day_reminder_sent_at is None

    assert scan(now=berlin(2, 14)) == 1
    moved.refresh_from_db()
    assert moved.day_reminder_sent_at == berlin(2, 14)


def test_the_reminder_speaks_the_readers_language_and_zone(booking, people):
    people.customer.preferred_language = "bg"
    people.customer.time_zone = "America/New_York"
    people.customer.save()

    scan(now=booking.starts_at - 24 * HOUR)

    to_customer = next(m for m in mail.outbox if m.to == [people.customer.email])
    to_agent = next(m for m in mail.outbox if m.to == [people.agent.email])
    # 10:00 in Berlin is 04:00 in New York; each reads their own time and their own page.
    assert "04:00" in to_customer.body
    assert "America/New_York" in to_customer.body
    assert f"/book/calls/{booking.pk}/" in to_customer.body
    assert "10:00" in to_agent.body
    assert "Europe/Berlin" in to_agent.body
    assert f"/calendar/calls/{booking.pk}/" in to_agent.body
    assert people.customer.get_full_name() in to_agent.body
    assert "Onboarding new admins" in to_agent.body
    assert to_customer.subject.startswith("Напомняне: ")
    assert to_agent.subject.startswith("Reminder: ")


def test_a_failed_email_is_retried_alone_and_does_not_block_others(people, settings):
    first = book(people, berlin(1, 10), topic="First")
    second = book(people, berlin(1, 11), topic="Second")
    # A real SMTP client against a port nobody listens on: every send fails.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    at = berlin(30, 11, 30, month=11)

    assert scan(now=at) == 2  # both calls reminded: four e-mails wait

    assert day_reminders().filter(state=EmailState.PENDING, attempts=1).count() == 4
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert scan(now=at + MINUTE) == 0  # not before the back-off
    assert scan(now=at + 2 * MINUTE) == 0  # no new reminder, the retries go
    assert len(mail.outbox) == 4
    assert {message.subject for message in mail.outbox} == {
        f"Reminder: Support call at {first.starts_at.astimezone(BERLIN):%a %-d %b %H:%M}",
        f"Reminder: Support call at {second.starts_at.astimezone(BERLIN):%a %-d %b %H:%M}",
    }


def test_a_reminder_that_waited_too_long_is_dropped_not_sent_late(booking, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    scan(now=booking.starts_at - 23 * HOUR)  # queued, SMTP down

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # SMTP is back only 40 minutes before the call: the 24-hour reminder would be late.
    emails_send_pending(now=booking.starts_at - 40 * MINUTE)

    assert set(day_reminders().values_list("state", flat=True)) == {EmailState.DROPPED}
    assert mail.outbox == []


def test_a_reminder_of_a_call_cancelled_meanwhile_is_dropped(booking, people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    scan(now=booking.starts_at - 23 * HOUR)
    bookings.booking_cancel_by_agent(
        booking=booking, by=people.agent, message="Ill today.", now=booking.starts_at - 22 * HOUR
    )

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    emails_send_pending(now=booking.starts_at - 21 * HOUR)

    assert [message.subject.split(":")[0] for message in mail.outbox] == [
        "[VIP Support] Call cancelled"
    ] * 2


def test_a_reminder_of_a_call_moved_meanwhile_is_dropped(booking, people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    scan(now=berlin(30, 10, 30, month=11))  # the 24-hour reminder of Tuesday 10:00; SMTP down
    bookings.booking_reschedule(
        booking=booking, starts_at=berlin(3, 14), by=people.customer, now=berlin(30, 11, month=11)
    )

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    emails_send_pending(now=berlin(30, 12, month=11))

    # Only the move's invitations go; the reminder of the old time does not.
    assert [message.subject.split(":")[0] for message in mail.outbox] == [
        "[VIP Support] Call moved"
    ] * 2
    assert set(day_reminders().values_list("state", flat=True)) == {EmailState.DROPPED}


def test_the_beat_task_runs_the_scan(booking, time_machine):
    time_machine.move_to(booking.starts_at - 23 * HOUR, tick=False)

    assert tasks.send_due_reminders.apply().get() == 1
    assert emails_send_pending() == 2  # the outbox sends what the scan wrote
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_a_row_claimed_by_another_scan_is_skipped_not_sent_twice():
    people = vip_people()
    booking = book(people, berlin(1, 10))
    due = booking.starts_at - 23 * HOUR
    locked, release = threading.Event(), threading.Event()

    def other_scan_holding_the_row() -> None:
        try:
            with transaction.atomic():
                Booking.objects.select_for_update().get(pk=booking.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    other = threading.Thread(target=other_scan_holding_the_row)
    other.start()
    try:
        assert locked.wait(timeout=30)
        assert reminder_queue_one(reminder=Reminder.DAY_BEFORE, now=due) is None
    finally:
        release.set()
        other.join()
    assert mail.outbox == []
    assert reminder_queue_one(reminder=Reminder.DAY_BEFORE, now=due) == booking.pk


def test_a_call_booked_less_than_a_day_ahead_gets_only_the_hour_reminder(people):
    # Booked Monday 08:00 for Monday 13:00: the invitation has just said when it is.
    booking = book(people, berlin(30, 13, month=11))

    assert scan(now=berlin(30, 8, 1, month=11)) == 0
    assert scan(now=berlin(30, 12, month=11)) == 1

    booking.refresh_from_db()
    assert booking.day_reminder_sent_at is None
    assert booking.hour_reminder_sent_at == berlin(30, 12, month=11)


def test_moving_a_call_to_within_a_day_counts_from_the_move(booking, people):
    moved_at = berlin(30, 11, month=11)
    bookings.booking_reschedule(
        booking=booking, starts_at=berlin(1, 9), by=people.customer, now=moved_at
    )
    booking.refresh_from_db()
    assert booking.placed_at == moved_at

    # 22 hours ahead when it moved: no 24-hour reminder, the 1-hour one still comes.
    assert scan(now=moved_at + MINUTE) == 0
    assert scan(now=berlin(1, 8)) == 1
