"""The outbox: e-mails stored whole in the deciding transaction, sent once each, retried per
recipient with back-off, dropped once untrue; on PostgreSQL and on SQLite, with parallel senders."""

import datetime
import textwrap
import threading
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from kombu.exceptions import OperationalError

from outbox import services, tasks
from outbox.models import MAX_ATTEMPTS, Email, EmailState
from vipsupport.testing import run_on_sqlite

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 8, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)
PROJECT = Path(__file__).resolve().parents[2]
ICS = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def invitation(*to: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject="Call booked: Support, Tue 1 Dec 10:00",
        body="Hello Ann,\n\nyour call is booked.\n",
        from_email="VIP Support <support@example.com>",
        to=list(to),
        headers={"Auto-Submitted": "auto-generated", "Message-ID": "<call-1@vipsupport>"},
    )
    message.attach_alternative(ICS, "text/calendar; method=REQUEST")
    message.attach("invite.ics", ICS, "application/ics")
    message.attach("logo.png", b"\x89PNG\r\n\x1a\n\x00\xff", "image/png")
    message.attach("notes.ics", "SUMMARY:Мария · Иванова\r\n".encode(), "application/ics")
    return message


def queue(message=None, **kwargs) -> list[Email]:
    kwargs.setdefault("now", NOW)
    return services.email_queue(message=message or invitation("ann@acme.example"), **kwargs)


class RefusingBackend(EmailBackend):
    """An SMTP server that refuses one address."""

    refused = "bob@acme.example"

    def send_messages(self, email_messages):
        for message in email_messages:
            if self.refused in message.to:
                raise ConnectionRefusedError(f"{self.refused} refused")
        return super().send_messages(email_messages)


def test_an_e_mail_is_stored_whole_and_sent_as_it_was_written():
    queue()

    assert services.emails_send_pending(now=NOW) == 1

    [sent] = mail.outbox
    assert sent.subject == "Call booked: Support, Tue 1 Dec 10:00"
    assert sent.body == "Hello Ann,\n\nyour call is booked.\n"
    assert sent.from_email == "VIP Support <support@example.com>"
    assert sent.to == ["ann@acme.example"]
    assert sent.extra_headers["Message-ID"] == "<call-1@vipsupport>"
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert sent.alternatives[0][:2] == (ICS, "text/calendar; method=REQUEST")
    names = {attachment[0]: attachment for attachment in sent.attachments}
    assert names["invite.ics"][1:] == (ICS, "application/ics")
    assert names["logo.png"][1:] == (b"\x89PNG\r\n\x1a\n\x00\xff", "image/png")
    assert names["notes.ics"][1:] == ("SUMMARY:Мария · Иванова\r\n".encode(), "application/ics")
    email = Email.objects.get()
    assert (email.state, email.attempts, email.done_at) == (EmailState.SENT, 0, NOW)


def test_each_recipient_gets_a_row_and_is_retried_alone(settings):
    settings.EMAIL_BACKEND = "outbox.tests.test_outbox.RefusingBackend"
    queue(invitation("ann@acme.example", "bob@acme.example"))

    assert services.emails_send_pending(now=NOW) == 1
    assert services.emails_send_pending(now=NOW + MINUTE) == 0  # bob waits for his back-off
    assert services.emails_send_pending(now=NOW + 2 * MINUTE) == 0  # refused again

    assert [message.to for message in mail.outbox] == [["ann@acme.example"]]
    bob = Email.objects.get(to="bob@acme.example")
    assert (bob.state, bob.attempts) == (EmailState.PENDING, 2)
    assert bob.next_attempt_at == NOW + 2 * MINUTE + 4 * MINUTE
    assert "refused" in bob.last_error


class FlakyBackend(EmailBackend):
    """An SMTP server that refuses its first message, then takes them."""

    calls = 0

    def send_messages(self, email_messages):
        type(self).calls += 1
        if type(self).calls == 1:
            raise ConnectionRefusedError("451 try again later")
        return super().send_messages(email_messages)


def test_an_e_mail_without_a_message_id_carries_its_row_s_own_on_every_attempt(settings):
    settings.EMAIL_BACKEND = "outbox.tests.test_outbox.FlakyBackend"
    FlakyBackend.calls = 0
    message = invitation("ann@acme.example")
    del message.extra_headers["Message-ID"]
    [email] = queue(message)

    services.emails_send_pending(now=NOW)  # refused
    services.emails_send_pending(now=NOW + 2 * MINUTE)

    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == f"<outbox.{email.pk}.20261130080000@example.com>"
    assert sent.message()["Message-ID"] == sent.extra_headers["Message-ID"]
    again = services.email_message(email)
    assert again.extra_headers["Message-ID"] == sent.extra_headers["Message-ID"]
    assert Email.objects.get().headers == {"Auto-Submitted": "auto-generated"}


def test_after_its_last_attempt_an_e_mail_is_given_up(settings):
    settings.EMAIL_BACKEND = "outbox.tests.test_outbox.RefusingBackend"
    queue(invitation("bob@acme.example"), max_attempts=3)
    moment = NOW
    for _ in range(3):
        services.emails_send_pending(now=moment)
        moment += datetime.timedelta(days=1)

    email = Email.objects.get()
    assert (email.state, email.attempts) == (EmailState.FAILED, 3)
    assert services.emails_send_pending(now=moment) == 0


def test_an_e_mail_past_its_truth_is_dropped_not_sent():
    queue(expires_at=NOW + 5 * MINUTE)

    assert services.emails_send_pending(now=NOW + 5 * MINUTE) == 0

    assert mail.outbox == []
    email = Email.objects.get()
    assert (email.state, email.done_at) == (EmailState.DROPPED, NOW + 5 * MINUTE)


def test_dropping_a_topic_drops_only_its_pending_e_mails():
    [sent] = queue(topic="booking:1:invitation")
    services.emails_send_pending(now=NOW)
    [pending] = queue(topic="booking:1:invitation", now=NOW + MINUTE)
    [other] = queue(topic="booking:2:invitation", now=NOW + MINUTE)

    assert services.emails_drop(topics=["booking:1:invitation"], now=NOW + 2 * MINUTE) == 1

    states = dict(Email.objects.values_list("pk", "state"))
    assert states == {
        sent.pk: EmailState.SENT,
        pending.pk: EmailState.DROPPED,
        other.pk: EmailState.PENDING,
    }


def test_nothing_is_sent_before_it_is_due():
    queue(now=NOW + MINUTE)

    assert services.emails_send_pending(now=NOW) == 0
    assert services.emails_send_pending(now=NOW + MINUTE) == 1


def test_the_sender_runs_once_per_transaction_and_only_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        queue()
        queue(invitation("bob@acme.example"))

    assert [callback.__self__.name for callback in callbacks] == [
        "outbox.tasks.send_pending_emails"
    ]


def test_a_broker_outage_loses_no_e_mail(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise OperationalError("Redis is down")

    monkeypatch.setattr(tasks.send_pending_emails, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        queue()

    assert Email.objects.get().state == EmailState.PENDING
    assert tasks.send_pending_emails() == 1  # the minute run
    assert len(mail.outbox) == 1


def test_a_rolled_back_decision_leaves_no_e_mail():
    def decide_then_fail():
        with transaction.atomic():
            queue()
            raise RuntimeError("the booking failed")

    with pytest.raises(RuntimeError):
        decide_then_fail()

    assert not Email.objects.exists()


def test_an_e_mail_queued_without_a_limit_gets_the_default_attempts():
    [email] = queue()

    assert email.max_attempts == MAX_ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_parallel_senders_on_postgresql_send_each_e_mail_once():
    queue(invitation(*[f"user{n}@acme.example" for n in range(30)]))
    barrier = threading.Barrier(6)
    errors = []

    def send():
        try:
            barrier.wait(timeout=60)
            services.emails_send_pending(now=NOW)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        f"user{n}@acme.example" for n in range(30)
    )
    assert set(Email.objects.values_list("state", flat=True)) == {EmailState.SENT}


SQLITE_SCRIPT = textwrap.dedent(
    """
    import datetime, json, threading

    import django

    django.setup()

    from django.conf import settings
    from django.core import mail
    from django.core.mail import EmailMessage
    from django.core.management import call_command
    from django.db import connection

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    call_command("migrate", "outbox", verbosity=0)

    from outbox import services
    from outbox.models import Email

    assert connection.vendor == "sqlite"
    now = datetime.datetime(2026, 11, 30, 8, tzinfo=datetime.UTC)
    to = ["ann@acme.example", "bob@acme.example"]
    services.email_queue(message=EmailMessage("Hello", "Body", to=to), now=now)
    barrier = threading.Barrier({senders})
    errors = []

    def send():
        try:
            barrier.wait(timeout=180)
            services.emails_send_pending(now=now)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range({senders})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = sorted(Email.objects.values_list("state", flat=True))
    print(json.dumps({{"sent": len(mail.outbox), "errors": errors, "states": states}}))
    """
)


def test_on_sqlite_parallel_senders_send_each_e_mail_once(tmp_path):
    """The development default has no SKIP LOCKED: the write lock keeps claims apart."""
    result = run_on_sqlite(SQLITE_SCRIPT.format(senders=8), tmp_path)

    assert result == {"sent": 2, "errors": [], "states": ["sent", "sent"]}
