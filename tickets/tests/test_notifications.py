from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.mail.backends.locmem import EmailBackend

from accounts.tests.factories import AgentFactory
from outbox.models import Email, EmailState
from outbox.services import emails_send_pending
from tickets import services
from tickets.models import Notification, NotificationKind
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 30, 8, tzinfo=UTC)


@pytest.fixture
def assignment():
    ticket = make_ticket(at=AT)
    agent = AgentFactory(email="maria@support.example", preferred_language="bg")
    services.ticket_assign(ticket=ticket, assignee=agent, actor=None, at=AT)
    return ticket, agent


def test_the_same_notice_is_stored_once_per_recipient(assignment):
    ticket, agent = assignment
    key = Notification.objects.get().subject_key

    services.notifications_create(
        recipient_ids=[agent.pk, agent.pk],
        kind=NotificationKind.ASSIGNMENT,
        ticket_id=ticket.pk,
        subject_key=key,
        at=AT,
    )

    assert Notification.objects.count() == 1


def test_pending_notices_are_mailed_once_in_the_recipients_language(assignment, mailoutbox):
    assert services.notifications_queue_emails(now=AT) == 1
    assert services.notifications_queue_emails(now=AT) == 0
    assert emails_send_pending(now=AT) == 1

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["maria@support.example"]
    assert mailoutbox[0].subject.startswith("[VIP поддръжка] Възлагане: #")
    assert "Тази заявка е възложена на вас." in mailoutbox[0].body
    assert Notification.objects.get().emailed_at == AT


def test_a_failed_send_is_retried_later_without_a_second_notice(assignment, mailoutbox):
    services.notifications_queue_emails(now=AT)
    with mock.patch.object(EmailBackend, "send_messages", side_effect=OSError("SMTP down")):
        assert emails_send_pending(now=AT) == 0

    email = Email.objects.get()
    assert (email.state, email.attempts) == (EmailState.PENDING, 1)

    assert emails_send_pending(now=email.next_attempt_at) == 1
    assert services.notifications_queue_emails(now=email.next_attempt_at) == 0
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_notice_that_keeps_failing_is_given_up_after_five_attempts(assignment):
    services.notifications_queue_emails(now=AT)
    moment = AT
    with mock.patch.object(EmailBackend, "send_messages", side_effect=OSError("SMTP down")):
        for _ in range(services.EMAIL_ATTEMPTS_LIMIT):
            assert emails_send_pending(now=moment) == 0
            moment += timedelta(days=1)

        assert emails_send_pending(now=moment) == 0

    email = Email.objects.get()
    assert (email.state, email.attempts) == (EmailState.FAILED, services.EMAIL_ATTEMPTS_LIMIT)


def test_the_e_mail_task_is_enqueued_only_after_commit(django_capture_on_commit_callbacks):
    ticket = make_ticket(at=AT)
    with django_capture_on_commit_callbacks() as callbacks:
        services.ticket_assign(ticket=ticket, assignee=AgentFactory(), actor=None, at=AT)

    assert len(callbacks) == 1
    assert callbacks[0].__self__.name == "tickets.tasks.queue_notification_emails"


def test_the_notices_e_mails_are_written_after_the_scan_commits_and_sent_by_the_outbox(
    assignment, django_capture_on_commit_callbacks, mailoutbox
):
    from tickets import tasks

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tasks.queue_notification_emails() == 1

    assert [callback.__self__.name for callback in callbacks] == [
        "outbox.tasks.send_pending_emails"
    ]
    assert Email.objects.get().topic == f"notification:{Notification.objects.get().pk}"
