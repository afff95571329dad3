"""What the e-mail channel sends, all through the outbox in the deciding transaction: staff replies
(threaded), out-of-hours acknowledgements and bounces of mail too large to take."""

from __future__ import annotations

import datetime
import secrets
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.selectors import company_holds_addon
from desk.selectors import desk_date, desk_hours, desk_zone
from mail.addresses import dedicated_address, general_address, is_our_address
from mail.models import Acknowledgement, ThreadId
from outbox.services import email_queue
from tickets.models import Ticket, TicketMessage
from vipsupport.mail import AUTO_REPLY_HEADERS, render_subject_and_body

# How many earlier ids a reply lists in References (RFC 5322 keeps the first and the latest).
REFERENCES_KEPT = 10


def ticket_tag(ticket: Ticket) -> str:
    """The subject tag a reply threads by when its headers are lost: "[#123]"."""
    return f"[#{ticket.pk}]"


def ticket_reply_address(*, ticket: Ticket, at: datetime.datetime) -> str:
    """Where the customer's answers should go: the company's dedicated address when it holds the
    add-on, the general one otherwise."""
    if company_holds_addon(company=ticket.company, at=at):
        return dedicated_address(company=ticket.company)
    return general_address()


def _new_message_id(ticket: Ticket, kind: str) -> str:
    domain = general_address().partition("@")[2]
    return f"<ticket-{ticket.pk}.{kind}.{secrets.token_hex(8)}@{domain}>"


def _thread_headers(ticket: Ticket, message_id: str) -> dict[str, str]:
    """Message-ID, In-Reply-To and References of a new message on the ticket's thread."""
    earlier = list(
        ThreadId.objects.filter(ticket=ticket)
        .order_by("-created_at", "-pk")
        .values_list("value", flat=True)[:REFERENCES_KEPT]
    )[::-1]
    headers = {"Message-ID": message_id}
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier)
    return headers


def _portal_link(ticket: Ticket) -> str:
    return settings.PORTAL_URL.rstrip("/") + reverse("tickets:detail", args=[ticket.pk])


def reply_send(*, message: TicketMessage, now: datetime.datetime) -> None:
    """E-mail a staff member's public reply to the requester and the ticket's CCs, each in their
    language and zone, threaded with what came before. Call in the reply's transaction."""
    ticket = Ticket.objects.select_related("company", "requester").get(pk=message.ticket_id)
    recipients = [ticket.requester, *ticket.cc.filter(is_active=True)]
    message_id = _new_message_id(ticket, f"reply-{message.pk}")
    headers = _thread_headers(ticket, message_id)
    ThreadId.objects.create(value=message_id, ticket=ticket, is_ours=True, created_at=now)
    reply_to = ticket_reply_address(ticket=ticket, at=now)
    author = message.author
    sender = formataddr((str(author) if author else "VIP Support", reply_to))
    for recipient in recipients:
        if not recipient.is_active:
            continue
        subject, body = _render(
            recipient,
            "mail/email/reply_subject.txt",
            "mail/email/reply_body.txt",
            {
                "ticket": ticket,
                "message": message,
                "tag": ticket_tag(ticket),
                "ticket_url": _portal_link(ticket),
            },
        )
        email_queue(
            message=EmailMessage(
                subject=subject,
                body=body,
                from_email=sender,
                to=[recipient.email],
                headers={**headers, "Reply-To": reply_to},
            ),
            now=now,
            topic=f"ticket-reply:{message.pk}",
        )


def acknowledgement_send(
    *,
    ticket: Ticket,
    to: str,
    answers: str,
    received_at: datetime.datetime,
    now: datetime.datetime,
) -> bool:
    """Tell the sender of mail the closed desk received when we will answer, once per ticket per
    desk day (RFC 3834); returns whether this one was sent. `answers` is their Message-ID."""
    if is_our_address(to):
        return False
    ack = Acknowledgement(ticket=ticket, address=to.lower(), day=desk_date(received_at))
    ack.created_at = now
    try:
        with transaction.atomic():
            ack.save()
    except IntegrityError:  # already acknowledged today
        return False
    ticket = Ticket.objects.select_related("company").get(pk=ticket.pk)
    recipient = User.objects.filter(email__iexact=to).first()
    context = {
        "ticket": ticket,
        "tag": ticket_tag(ticket),
        "received_at": received_at,
        "answer_by": ticket.sla_due_at,
        "portal_new_ticket": settings.PORTAL_URL.rstrip("/") + reverse("tickets:new"),
    }
    subject, body = _render(
        recipient,
        "mail/email/acknowledgement_subject.txt",
        "mail/email/acknowledgement_body.txt",
        context,
        at=received_at,
    )
    email_queue(
        message=EmailMessage(
            subject=subject,
            body=body,
            from_email=formataddr(("VIP Support", ticket_reply_address(ticket=ticket, at=now))),
            to=[to],
            headers={
                **AUTO_REPLY_HEADERS,
                **_thread_headers(ticket, _new_message_id(ticket, "ack")),
                "In-Reply-To": answers,
                "References": answers,
            },
        ),
        now=now,
        topic=f"mail-ack:{ticket.pk}",
    )
    return True


def bounce_send(*, to: str, subject: str, answers: str, size: int, now: datetime.datetime) -> None:
    """Tell a sender their message was too large to take, and what to do instead."""
    recipient = User.objects.filter(email__iexact=to).first()
    context = {
        "subject": subject,
        "size_mb": round(size / 1024 / 1024, 1),
        "limit_mb": settings.MAIL_MAX_BYTES // 1024 // 1024,
        "portal_new_ticket": settings.PORTAL_URL.rstrip("/") + reverse("tickets:new"),
    }
    mail_subject, body = _render(
        recipient, "mail/email/bounce_subject.txt", "mail/email/bounce_body.txt", context
    )
    email_queue(
        message=EmailMessage(
            subject=mail_subject,
            body=body,
            from_email=formataddr(("VIP Support", general_address())),
            to=[to],
            headers={**AUTO_REPLY_HEADERS, "In-Reply-To": answers, "References": answers},
        ),
        now=now,
        topic="mail-bounce",
    )


def _render(
    recipient: User | None,
    subject_template: str,
    body_template: str,
    context: dict[str, object],
    *,
    at: datetime.datetime | None = None,
) -> tuple[str, str]:
    """Subject and body in the recipient's language and zone (a stranger: English, desk zone)."""
    language = recipient.preferred_language if recipient else settings.LANGUAGE_CODE
    zone = recipient.time_zone if recipient else str(desk_zone())
    with translation.override(language), timezone.override(zone):
        hours = desk_hours(at=at or timezone.now(), zone=timezone.get_current_timezone())
        return render_subject_and_body(
            subject_template,
            body_template,
            {**context, "recipient": recipient, "desk": hours, "zone_name": zone},
        )
