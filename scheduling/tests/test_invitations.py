"""iMIP e-mails: the real chain service → outbox → on_commit → Celery task (eager) → e-mail to
both sides.

The call is Tuesday 2026-12-01 10:00-10:30 in Berlin (09:00 UTC, 04:00 in New York).
"""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from icalendar import Calendar
from kombu.exceptions import OperationalError

from outbox import tasks as outbox_tasks
from outbox.models import MAX_ATTEMPTS, Email, EmailState
from outbox.services import emails_send_pending
from scheduling import emails, ical
from scheduling.emails import CallEmailKind
from scheduling.models import Booking, BookingStatus
from scheduling.services import bookings
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def people():
    return vip_people()


class RefuseAgentBackend(EmailBackend):
    """The outbox as an SMTP server that refuses one address sees it."""

    refused = ""

    def send_messages(self, email_messages):
        for message in email_messages:
            if self.refused in message.to:
                raise ConnectionRefusedError(f"{self.refused} refused")
        return super().send_messages(email_messages)


def calendar_part(message) -> tuple[str, Calendar]:
    """The `text/calendar` alternative of an e-mail: its MIME type and the parsed calendar."""
    [(content, mimetype)] = [
        (alt.content, alt.mimetype) for alt in message.alternatives if "calendar" in alt.mimetype
    ]
    return mimetype, Calendar.from_ical(content)


def by_recipient(messages) -> dict:
    return {message.to[0]: message for message in messages}


def event_of(message):
    [event] = calendar_part(message)[1].walk("VEVENT")
    return event


def outbox_of(booking: Booking):
    """The booking's e-mails in the outbox, oldest first."""
    return Email.objects.filter(topic__in=emails.call_email_topics(booking_id=booking.pk))


def invitations_of(booking: Booking):
    topic = emails.call_email_topic(booking_id=booking.pk, kind=CallEmailKind.INVITATION)
    return Email.objects.filter(topic=topic)


class TestWholeChain:
    def test_booking_a_call_e_mails_a_request_to_the_customer_and_the_event_to_the_agent(
        self, people, eager_tasks, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            booking = make_booking(people, berlin(1, 10), topic="Mail flow rules")

        assert len(mail.outbox) == 2
        sent = by_recipient(mail.outbox)
        assert set(sent) == {people.customer.email, people.agent.email}
        # The customer (ATTENDEE) is invited; the agent (ORGANIZER) is given the event (PUBLISH).
        methods = {people.customer.email: "REQUEST", people.agent.email: "PUBLISH"}
        attachments = {people.customer.email: "invite.ics", people.agent.email: "call.ics"}
        for message in mail.outbox:
            method = methods[message.to[0]]
            mimetype, calendar = calendar_part(message)
            assert mimetype == f"text/calendar; method={method}"
            assert str(calendar["method"]) == method
            [event] = calendar.walk("VEVENT")
            assert str(event["uid"]) == f"{booking.uid}@{ical.UID_DOMAIN}"
            assert event.decoded("dtstart") == datetime.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
            assert str(event["organizer"]) == f"mailto:{people.agent.email}"
            if method == "REQUEST":
                assert str(event["attendee"]) == f"mailto:{people.customer.email}"
                assert event["attendee"].params["RSVP"] == "TRUE"
            else:  # RFC 5546 §3.2.1: a published event has no attendees
                assert "attendee" not in event
            [(filename, content, attachment_type)] = message.attachments
            assert (filename, attachment_type) == (attachments[message.to[0]], "application/ics")
            assert Calendar.from_ical(content)["method"] == method
            raw = message.message().as_string()
            assert f'Content-Type: text/calendar; method="{method}"; charset="utf-8"' in raw
            assert message.from_email == "VIP Support <support@localhost>"
        customer_mail = sent[people.customer.email]
        assert customer_mail.subject.startswith("[VIP Support] Call booked: Support")
        assert f"Your call with {people.agent.get_full_name()} is booked." in customer_mail.body
        assert "Topic: Mail flow rules" in customer_mail.body
        assert f"/book/calls/{booking.pk}/" in customer_mail.body
        agent_mail = sent[people.agent.email]
        assert f"{people.customer.get_full_name()} of Acme Ltd booked a call" in agent_mail.body
        assert f"/calendar/calls/{booking.pk}/" in agent_mail.body

    # Three real commits: the outbox enqueues its sender once per transaction, and inside one
    # test transaction the three steps would share one.
    @pytest.mark.django_db(transaction=True)
    def test_moving_then_cancelling_sends_updates_with_one_uid_and_rising_sequence(
        self, people, eager_tasks
    ):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(2, 14), by=people.customer, now=NOW
        )
        bookings.booking_cancel_by_customer(
            booking=booking, by=people.customer, message="Solved it ourselves.", now=NOW
        )

        assert len(mail.outbox) == 6
        booked, moved, cancelled = mail.outbox[0:2], mail.outbox[2:4], mail.outbox[4:6]
        uids = {str(event_of(message)["uid"]) for message in mail.outbox}
        assert uids == {f"{booking.uid}@{ical.UID_DOMAIN}"}
        for messages, sequence in ((booked, 0), (moved, 1), (cancelled, 2)):
            assert {event_of(message).decoded("sequence") for message in messages} == {sequence}

        for message in moved:
            assert event_of(message).decoded("dtstart") == datetime.datetime(
                2026, 12, 2, 13, 0, tzinfo=UTC
            )
            assert "Call moved" in message.subject
            assert "Wed 2 Dec 2026, 14:00–14:30 (Europe/Berlin)" in message.body

        for message in cancelled:
            # The customer's copy cancels the invitation; the agent's published event is updated.
            method = "CANCEL" if message.to[0] == people.customer.email else "PUBLISH"
            mimetype, calendar = calendar_part(message)
            assert mimetype == f"text/calendar; method={method}"
            assert str(calendar["method"]) == method
            assert str(event_of(message)["status"]) == "CANCELLED"
            assert message.attachments[0][0] == "cancel.ics"
            assert "Call cancelled" in message.subject
            assert "Message: Solved it ourselves." in message.body
        agent_cancel = by_recipient(cancelled)[people.agent.email]
        assert f"Your call with {people.customer.get_full_name()} of Acme Ltd was cancelled." in (
            agent_cancel.body
        )

    def test_each_side_reads_the_time_in_their_own_zone_and_language(
        self, people, eager_tasks, django_capture_on_commit_callbacks
    ):
        people.customer.preferred_language = "bg"
        people.customer.time_zone = "America/New_York"
        people.customer.save()

        with django_capture_on_commit_callbacks(execute=True):
            make_booking(people, berlin(1, 10))

        sent = by_recipient(mail.outbox)
        customer_mail, agent_mail = sent[people.customer.email], sent[people.agent.email]
        # Django's own Bulgarian names of weekdays and months; the call is 04:00 in New York.
        assert "Вт 1 Дек 2026, 04:00–04:30 (America/New_York)" in customer_mail.body
        assert "Tue 1 Dec 2026, 10:00–10:30 (Europe/Berlin)" in agent_mail.body

    def test_names_in_any_script_survive_the_mime_encoding(
        self, people, eager_tasks, django_capture_on_commit_callbacks
    ):
        people.agent.first_name, people.agent.last_name = "Мария", "Иванова"
        people.agent.save()

        with django_capture_on_commit_callbacks(execute=True):
            make_booking(people, berlin(1, 10))

        for message in mail.outbox:
            parts = {
                part.get_content_type(): part.get_payload(decode=True).decode("utf-8")
                for part in message.message().walk()
                if not part.is_multipart()
            }
            for content_type in ("text/calendar", "application/ics"):
                event = Calendar.from_ical(parts[content_type]).walk("VEVENT")[0]
                assert event["organizer"].params["CN"] == "Мария Иванова"


class TestWhatIsSent:
    def test_a_superseded_version_is_dropped_and_only_the_current_one_goes_out(self, people):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(2, 14), by=people.customer, now=NOW
        )

        assert outbox_tasks.send_pending_emails() == 2
        assert {event_of(message)["sequence"] for message in mail.outbox} == {1}
        # Oldest first: the first version's two, dropped by the move; the move's two, sent.
        assert list(invitations_of(booking).values_list("state", flat=True)) == [
            EmailState.DROPPED,
            EmailState.DROPPED,
            EmailState.SENT,
            EmailState.SENT,
        ]

    def test_the_outbox_rows_carry_the_moment_of_the_change_that_wrote_them(self, people):
        booking = make_booking(people, berlin(1, 10), now=NOW)
        moved_at = NOW + datetime.timedelta(minutes=7)
        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(2, 14), by=people.customer, now=moved_at
        )

        first, moved = invitations_of(booking)[:2], invitations_of(booking)[2:]
        assert {(row.created_at, row.next_attempt_at, row.done_at) for row in first} == {
            (NOW, NOW, moved_at)
        }
        assert {(row.created_at, row.next_attempt_at) for row in moved} == {(moved_at, moved_at)}
        # Rendered when written: each version's DTSTAMP is the moment of its change.
        for rows, stamp in ((first, NOW), (moved, moved_at)):
            for row in rows:
                [event] = Calendar.from_ical(row.alternatives[0]["content"]).walk("VEVENT")
                assert event.decoded("dtstamp") == stamp
        booking.refresh_from_db()
        assert (booking.created_at, booking.placed_at, booking.updated_at) == (
            NOW,
            moved_at,
            moved_at,
        )

    def test_a_finished_call_sends_nothing(self, people):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_mark(
            booking=booking, status=BookingStatus.COMPLETED, by=people.agent, now=berlin(1, 11)
        )

        assert emails_send_pending() == 0
        assert mail.outbox == []
        assert set(outbox_of(booking).values_list("state", flat=True)) == {EmailState.DROPPED}

    def test_a_deleted_booking_takes_its_e_mails_with_it(self, people):
        booking = make_booking(people, berlin(1, 10))
        topics = emails.call_email_topics(booking_id=booking.pk)
        booking.delete()

        assert emails_send_pending() == 0
        assert mail.outbox == []
        # The outbox keeps its record of them, none of them still to be sent.
        deleted = Email.objects.filter(topic__in=topics)
        assert deleted.count() == 2
        assert set(deleted.values_list("state", flat=True)) == {EmailState.DROPPED}

    def test_each_recipient_is_retried_alone_and_never_sent_twice(
        self, people, settings, monkeypatch
    ):
        make_booking(people, berlin(1, 10))
        settings.EMAIL_BACKEND = "scheduling.tests.test_invitations.RefuseAgentBackend"
        monkeypatch.setattr(RefuseAgentBackend, "refused", people.agent.email)

        assert emails_send_pending(now=NOW) == 1
        assert [message.to for message in mail.outbox] == [[people.customer.email]]
        failed = Email.objects.get(to=people.agent.email)
        assert (failed.state, failed.attempts) == (EmailState.PENDING, 1)
        assert "refused" in failed.last_error

        # Retried after its back-off only; the customer's e-mail is not sent again.
        assert emails_send_pending(now=NOW + datetime.timedelta(minutes=1)) == 0
        monkeypatch.setattr(RefuseAgentBackend, "refused", "")
        assert emails_send_pending(now=NOW + datetime.timedelta(minutes=2)) == 1
        assert sorted(message.to[0] for message in mail.outbox) == sorted(
            [people.customer.email, people.agent.email]
        )

    def test_after_the_last_attempt_the_e_mail_is_given_up(self, people, settings, monkeypatch):
        make_booking(people, berlin(1, 10))
        settings.EMAIL_BACKEND = "scheduling.tests.test_invitations.RefuseAgentBackend"
        monkeypatch.setattr(RefuseAgentBackend, "refused", people.agent.email)
        moment = NOW
        for _ in range(MAX_ATTEMPTS):
            emails_send_pending(now=moment)
            moment += datetime.timedelta(hours=2)

        failed = Email.objects.get(to=people.agent.email)
        assert (failed.state, failed.attempts) == (EmailState.FAILED, MAX_ATTEMPTS)

    def test_a_broker_outage_loses_no_invitation(
        self, people, monkeypatch, django_capture_on_commit_callbacks
    ):
        # Enqueueing fails as kombu fails when the broker is down: the booking still stands
        # and its e-mails wait in the outbox.
        def broker_down(*args, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        monkeypatch.setattr(outbox_tasks.send_pending_emails, "delay", broker_down)

        with django_capture_on_commit_callbacks(execute=True):
            booking = make_booking(people, berlin(1, 10))

        assert booking.pk is not None
        assert outbox_of(booking).filter(state=EmailState.PENDING).count() == 2
        # The outbox's minute run (Beat) sends what the on-commit task could not.
        assert outbox_tasks.send_pending_emails() == 2
        assert len(mail.outbox) == 2

    def test_the_links_use_the_portal_address(self, people, settings):
        settings.PORTAL_URL = "https://support.example.com"
        booking = make_booking(people, berlin(1, 10))

        emails_send_pending()

        sent = by_recipient(mail.outbox)
        link = f"https://support.example.com/book/calls/{booking.pk}/"
        assert link in sent[people.customer.email].body
        assert str(event_of(sent[people.customer.email])["url"]) == link
