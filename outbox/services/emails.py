"""Write e-mails in the deciding transaction; send them afterwards, one row at a time.

Whoever decides an e-mail (a ticket service, a booking, the reminder scan) renders it and calls
`email_queue` inside its own transaction, so the e-mail exists exactly when the decision does.
`email_send_one` claims the oldest due row with `SELECT … FOR UPDATE SKIP LOCKED` (on SQLite,
behind the write lock) and sends it, drops it, or schedules its retry. So:

- a broker outage loses nothing: the row waits for the next run (on commit, and every minute);
- each recipient's row succeeds or is retried on its own, with back-off, so a refused address
  never makes another recipient's e-mail go twice;
- an e-mail that is no longer true is not sent: the app that makes it untrue drops its topic in
  that same transaction (`emails_drop`), or it carries the moment it stops being true
  (`expires_at`).

The outbox knows no app: it imports nothing from tickets, scheduling or the channels.
"""

from __future__ import annotations

import base64
import datetime
import logging
from collections.abc import Iterable
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from outbox.models import MAX_ATTEMPTS, Email, EmailState
from outbox.services.draining import row_claim_due, rows_send_pending, sender_run_after_commit

logger = logging.getLogger(__name__)


def email_queue(
    *,
    message: EmailMessage,
    now: datetime.datetime,
    topic: str = "",
    expires_at: datetime.datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[Email]:
    """Store `message` as one row per recipient, due at `now`, and have the sender run once the
    transaction commits. Call inside the transaction that decided the e-mail."""
    rows = [
        Email(
            topic=topic,
            to=recipient,
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
            subject=str(message.subject),
            body=str(message.body),
            headers=dict(message.extra_headers),
            alternatives=[
                {"content": _text(content), "mimetype": mimetype}
                for content, mimetype in getattr(message, "alternatives", [])
            ],
            attachments=[_stored_attachment(attachment) for attachment in message.attachments],
            max_attempts=max_attempts,
            next_attempt_at=now,
            expires_at=expires_at,
            created_at=now,
        )
        for recipient in [*message.to, *message.cc, *message.bcc]
    ]
    for row in rows:
        row.full_clean()
    created = Email.objects.bulk_create(rows)
    _send_after_commit()
    return created


def emails_drop(*, topics: Iterable[str], now: datetime.datetime) -> int:
    """Drop the pending e-mails of these topics (a newer decision made them untrue)."""
    return Email.objects.filter(topic__in=list(topics), state=EmailState.PENDING).update(
        state=EmailState.DROPPED, done_at=now
    )


def emails_send_pending(*, now: datetime.datetime | None = None) -> int:
    """Send the e-mails that are due (up to `BATCH_LIMIT`); returns how many went out."""
    return rows_send_pending(email_send_one, now=now)


@transaction.atomic
def email_send_one(*, now: datetime.datetime | None = None) -> Email | None:
    """Claim the oldest due e-mail and send it, drop it, or schedule its retry; None if none."""
    now = now or timezone.now()
    email = row_claim_due(Email, now=now)
    if email is None:
        return None
    if email.expires_at is not None and email.expires_at <= now:
        email.state = EmailState.DROPPED
        email.done_at = now
    else:
        try:
            with get_connection() as mail_connection:
                mail_connection.send_messages([email_message(email)])
        except Exception as error:  # SMTP down, an address refused: retried, the rest go on
            logger.warning("E-mail %s to %s failed", email.pk, email.to, exc_info=True)
            email.attempts += 1
            email.last_error = str(error)[:1000]
            if email.attempts >= email.max_attempts:
                email.state = EmailState.FAILED
                email.done_at = now
            else:
                email.next_attempt_at = now + datetime.timedelta(minutes=2**email.attempts)
        else:
            email.state = EmailState.SENT
            email.done_at = now
    email.save(update_fields=["state", "attempts", "last_error", "next_attempt_at", "done_at"])
    return email


def email_message(email: Email) -> EmailMultiAlternatives:
    """The stored e-mail as Django sends it, with a Message-ID of its own row when it has none."""
    headers = dict(email.headers)
    if not any(name.lower() == "message-id" for name in headers):
        # The same on every attempt: should a send reach the server but its row's commit be lost
        # (the worker killed in between), the repeat carries the same id for the receiver.
        domain = parseaddr(email.from_email)[1].rpartition("@")[2] or "localhost"
        headers["Message-ID"] = f"<outbox.{email.pk}.{email.created_at:%Y%m%d%H%M%S}@{domain}>"
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email,
        to=[email.to],
        headers=headers,
    )
    for part in email.alternatives:
        message.attach_alternative(part["content"], part["mimetype"])
    for attachment in email.attachments:
        content: str | bytes = attachment["content"]
        if attachment.get("encoding") == "base64":
            content = base64.b64decode(attachment["content"])
        elif attachment.get("encoding") == "utf-8":  # bytes go out as the bytes they were
            content = attachment["content"].encode()
        message.attach(attachment["filename"], content, attachment["mimetype"])
    return message


def _send_after_commit() -> None:
    from outbox.tasks import send_pending_emails

    sender_run_after_commit(send_pending_emails.delay)


def _text(content: Any) -> str:
    return content.decode() if isinstance(content, bytes) else str(content)


def _stored_attachment(attachment: Any) -> dict[str, str]:
    """A (filename, content, mimetype) attachment as JSON: text as it is, bytes as UTF-8 text or
    base64, marked so they are sent as the same bytes."""
    if not isinstance(attachment, tuple):
        raise TypeError("The outbox stores (filename, content, mimetype) attachments only.")
    filename, content, mimetype = attachment
    stored = {"filename": filename or "", "mimetype": mimetype or "application/octet-stream"}
    if isinstance(content, bytes):
        try:
            return {**stored, "content": content.decode(), "encoding": "utf-8"}
        except UnicodeDecodeError:
            return {**stored, "content": base64.b64encode(content).decode(), "encoding": "base64"}
    return {**stored, "content": str(content)}
