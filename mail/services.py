"""Mail in: one ingestion service every transport calls (SMTP receiver, IMAP poller, MTA pipe).

`mail_ingest` stores the raw message first (its own commit), then reads it and acts, in a second
transaction: a new ticket, a reply on one, automatic mail kept for agents, or an unknown sender
held for an agent. It is idempotent by Message-ID, so a repeated delivery makes nothing twice,
and a message it cannot read stays stored and flagged, never lost.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.selectors import company_dedicated_contact
from accounts.services import customer_create
from desk.selectors import desk_clock
from mail.addresses import Route, is_our_address, mail_route
from mail.models import NEEDS_AGENT_STATES, InboundMail, InboundState, ThreadId, Transport
from mail.outgoing import acknowledgement_send, bounce_send
from mail.parsing import MailUnreadable, ParsedMail, mail_parse, message_id_of
from mail.trim import trim_reply
from tickets import services as ticket_services
from tickets.attachments import MAX_FILES_PER_MESSAGE, attachments_validate
from tickets.models import MAX_TEXT_LENGTH, Channel, Severity, Status, Ticket

logger = logging.getLogger(__name__)

_TAG = re.compile(r"\[#(\d{1,18})\]")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|отг|пр)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def mail_ingest(
    *,
    raw: bytes,
    received_at: datetime.datetime,
    transport: Transport,
    envelope_sender: str | None = None,
    envelope_recipients: Sequence[str] = (),
    now: datetime.datetime | None = None,
) -> InboundMail:
    """Store `raw` and act on it once; a repeated delivery returns the stored row unchanged.

    Raises only when storage or the database fails, so the transport can try again.
    """
    now = now or timezone.now()
    inbound = _stored(
        raw=raw,
        received_at=received_at,
        transport=transport,
        envelope_sender=envelope_sender,
        envelope_recipients=envelope_recipients,
    )
    if inbound.state != InboundState.RECEIVED:
        return inbound
    return mail_process(inbound_id=inbound.pk, now=now)


def _stored(
    *,
    raw: bytes,
    received_at: datetime.datetime,
    transport: Transport,
    envelope_sender: str | None,
    envelope_recipients: Sequence[str],
) -> InboundMail:
    message_id = message_id_of(raw)
    inbound = InboundMail(
        message_id=message_id,
        size=len(raw),
        transport=transport,
        received_at=received_at,
        # "" is a bounce's null return path; None: the transport does not know it.
        envelope_sender="<>" if envelope_sender == "" else (envelope_sender or "")[:254],
        recipient=",".join(envelope_recipients)[:254],
    )
    inbound.raw.save("message.eml", ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:  # the same message, delivered twice at once
        inbound.raw.delete(save=False)
        return InboundMail.objects.get(message_id=message_id)
    return inbound


def mail_process(*, inbound_id: int, now: datetime.datetime) -> InboundMail:
    """Act on a stored message that is still waiting; one that cannot be read is flagged."""
    with transaction.atomic():
        inbound = InboundMail.objects.select_for_update().get(pk=inbound_id)
        if inbound.state != InboundState.RECEIVED:
            return inbound
        try:
            with transaction.atomic():
                _process(inbound, now=now)
        except (OperationalError, InterfaceError):
            raise  # the database is down: the transport tries again later
        except Exception as error:  # a message we cannot act on must still reach an agent
            logger.exception("Received e-mail %s could not be read", inbound.pk)
            inbound.state = InboundState.UNREADABLE
            inbound.problem = f"{type(error).__name__}: {error}"[:2000]
            inbound.ticket = inbound.ticket_message = None
        inbound.processed_at = now
        inbound.save()
    return inbound


def mails_process_waiting(*, now: datetime.datetime | None = None, older_than: int = 60) -> int:
    """Act on messages stored but never processed (a transport died between the two steps)."""
    now = now or timezone.now()
    waiting = InboundMail.objects.filter(
        state=InboundState.RECEIVED,
        received_at__lte=now - datetime.timedelta(seconds=older_than),
    ).values_list("pk", flat=True)[:100]
    for inbound_id in waiting:
        mail_process(inbound_id=inbound_id, now=now)
    return len(waiting)


def _process(inbound: InboundMail, *, now: datetime.datetime) -> None:
    with inbound.raw.open("rb") as file:
        raw = file.read()
    try:
        parsed = mail_parse(raw)
    except MailUnreadable as error:
        inbound.state = InboundState.UNREADABLE
        inbound.problem = str(error)
        return
    inbound.sender = parsed.sender[:254]
    inbound.sender_name = parsed.sender_name
    inbound.subject = parsed.subject[:998]
    inbound.full_text = parsed.text[: MAX_TEXT_LENGTH * 4]
    inbound.html = parsed.html[: MAX_TEXT_LENGTH * 4]
    envelope = [address for address in inbound.recipient.split(",") if address]
    addresses = envelope or [*parsed.recipients, *parsed.cc]
    route = mail_route(addresses=addresses, at=inbound.received_at)
    inbound.recipient = route.address
    return_path = "" if inbound.envelope_sender == "<>" else parsed.return_path
    automated = parsed.automated_because or (
        "a bounce (null return path)" if return_path == "" else ""
    )
    if not automated and is_our_address(parsed.sender):
        automated = "sent from one of our own addresses"
    if inbound.size > settings.MAIL_MAX_BYTES:
        inbound.state = InboundState.REFUSED
        inbound.problem = _("%(size)s bytes, over the limit of %(limit)s.") % {
            "size": inbound.size,
            "limit": settings.MAIL_MAX_BYTES,
        }
        inbound.full_text = inbound.html = ""
        if not automated and parsed.sender:
            bounce_send(
                to=parsed.sender,
                subject=parsed.subject,
                answers=parsed.message_id,
                size=inbound.size,
                now=now,
            )
        return
    requester = _requester(parsed.sender, route)
    inbound.company = route.company or (requester.company if requester else None)
    if automated:
        inbound.state = InboundState.AUTOMATED
        inbound.problem = automated
        ticket = _thread(parsed, company=None)
        if ticket is not None:
            inbound.ticket = ticket
            inbound.ticket_message = ticket_services.ticket_record_automatic(
                ticket=ticket, body=_automatic_summary(parsed, automated), at=inbound.received_at
            )
        return
    if requester is None:
        inbound.state = InboundState.UNVERIFIED
        return
    _deliver(inbound, parsed, requester=requester, route=route, now=now)


def _requester(address: str, route: Route) -> User | None:
    """The customer who sent it: a known, active user of the company the address belongs to."""
    if not address:
        return None
    user = (
        User.objects.filter(email__iexact=address, is_active=True, company__isnull=False)
        .select_related("company")
        .first()
    )
    if user is None or (route.company is not None and user.company_id != route.company.pk):
        return None
    return user


def _thread(parsed: ParsedMail, *, company: Company | None) -> Ticket | None:
    """The ticket a message answers: by its In-Reply-To/References, then by a "[#123]" tag.

    For a person's mail (`company` given) only that company's tickets count; automatic mail
    (a bounce, an absence notice) follows only ids we sent, which nobody can guess.
    """
    ids = parsed.thread_ids
    if ids:
        known = ThreadId.objects.filter(value__in=ids).select_related("ticket")
        if company is None:
            known = known.filter(is_ours=True)
        else:
            known = known.filter(ticket__company=company)
        by_id = {row.value: row.ticket for row in known}
        for value in ids:
            if value in by_id:
                return by_id[value]
    if company is None:
        return None
    for number in _TAG.findall(parsed.subject):
        ticket = Ticket.objects.filter(pk=int(number), company=company).first()
        if ticket is not None:
            return ticket
    return None


def _deliver(
    inbound: InboundMail,
    parsed: ParsedMail,
    *,
    requester: User,
    route: Route,
    now: datetime.datetime,
) -> None:
    """A person's mail: a reply on the ticket it answers, else a new ticket."""
    at = inbound.received_at
    files, refused = _acceptable_files(parsed)
    text = _ticket_text(parsed, refused)
    ticket = _thread(parsed, company=requester.company)
    if ticket is not None and ticket.status != Status.CLOSED:
        inbound.ticket = ticket
        inbound.ticket_message = ticket_services.ticket_reply(
            ticket=ticket, author=requester, body=text, files=files, at=at
        )
        inbound.state = InboundState.REPLY
    else:
        if ticket is not None:  # a closed ticket takes no replies: the answer opens a new one
            text = _("Follow-up to the closed ticket #%(pk)s.") % {"pk": ticket.pk} + "\n\n" + text
        inbound.ticket = _new_ticket(
            parsed, requester=requester, route=route, text=text, files=files, at=at
        )
        inbound.state = InboundState.TICKET
    ThreadId.objects.bulk_create(
        [ThreadId(value=parsed.message_id, ticket=inbound.ticket, is_ours=False, created_at=now)],
        ignore_conflicts=True,
    )
    if not desk_clock().is_open(at):
        acknowledgement_send(
            ticket=inbound.ticket,
            to=parsed.sender,
            answers=parsed.message_id,
            received_at=at,
            now=now,
        )


def _new_ticket(
    parsed: ParsedMail,
    *,
    requester: User,
    route: Route,
    text: str,
    files: list[UploadedFile],
    at: datetime.datetime,
) -> Ticket:
    company = requester.company
    assert company is not None
    # The subject is the customer's words, never a severity: "URGENT Sev 1" starts at the
    # default, and the agent changes it.
    severity = Severity.STANDARD if route.dedicated else company.mail_severity
    copied = {address for address in [*parsed.recipients, *parsed.cc] if address != requester.email}
    colleagues = User.objects.filter(company=company, is_active=True, email__in=copied)
    subject = _REPLY_PREFIX.sub("", _TAG.sub("", parsed.subject)).strip() or _("(no subject)")
    # A dedicated address is answered by the company's dedicated agent (or the backup standing in).
    contact = company_dedicated_contact(company=company, at=at) if route.dedicated else None
    ticket = ticket_services.ticket_create(
        requester=requester,
        subject=subject[:200],
        description=text,
        severity=severity,
        channel=Channel.EMAIL,
        cc=list(colleagues),
        files=files,
        assignee=contact.agent if contact else None,
        at=at,
    )
    return ticket


def _ticket_text(parsed: ParsedMail, refused: list[str]) -> str:
    """The words for the ticket: the new part of the mail, and which files were not taken."""
    text = trim_reply(parsed.text, subject=parsed.subject).strip() or _("(The e-mail had no text.)")
    notes = "\n".join(refused)
    room = MAX_TEXT_LENGTH - len(notes) - 200
    if len(text) > room:
        text = (
            text[:room].rstrip()
            + "\n\n"
            + _("[Shortened here: the whole e-mail is kept with the ticket.]")
        )
    return f"{text}\n\n{notes}" if notes else text


def _acceptable_files(parsed: ParsedMail) -> tuple[list[UploadedFile], list[str]]:
    """The attachments the portal's own limits take, and a line for each one they refuse."""
    accepted: list[UploadedFile] = []
    refused: list[str] = []
    for mail_file in parsed.files:
        file = SimpleUploadedFile(mail_file.name, mail_file.content, mail_file.content_type)
        if len(accepted) == MAX_FILES_PER_MESSAGE:
            refused.append(
                _("Not attached: “%(name)s” (at most %(max)s files per message).")
                % {"name": mail_file.name, "max": MAX_FILES_PER_MESSAGE}
            )
            continue
        try:
            attachments_validate(files=[file])
        except ValidationError as error:
            refused.append(
                _("Not attached: “%(name)s”: %(reason)s")
                % {"name": mail_file.name, "reason": " ".join(error.messages)}
            )
            continue
        file.seek(0)
        accepted.append(file)
    return accepted, refused


def _automatic_summary(parsed: ParsedMail, reason: str) -> str:
    """What an automatic message said, for agents: its sender, subject, why it is automatic."""
    head = _("Automatic e-mail from %(sender)s (%(reason)s): %(subject)s") % {
        "sender": parsed.sender or "?",
        "reason": reason,
        "subject": parsed.subject or _("(no subject)"),
    }
    return f"{head}\n\n{parsed.text[:4000]}".strip()


@transaction.atomic
def inbound_accept(
    *,
    inbound: InboundMail,
    company: Company,
    decided_by: User,
    first_name: str = "",
    last_name: str = "",
    now: datetime.datetime | None = None,
) -> InboundMail:
    """An agent vouches for an unknown sender: they become a contact of `company` (unless they
    already are one) and their message is acted on as if they had been known all along."""
    now = now or timezone.now()
    inbound = InboundMail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.state != InboundState.UNVERIFIED:
        raise ValidationError(_("This e-mail was already dealt with."))
    sender = User.objects.filter(email__iexact=inbound.sender).first()
    if sender is None:
        customer_create(
            email=inbound.sender, company=company, first_name=first_name, last_name=last_name
        )
    elif sender.company_id != company.pk:
        raise ValidationError(
            _("%(email)s belongs to %(company)s; move them there first, or reject the e-mail.")
            % {"email": inbound.sender, "company": sender.company or _("the staff")}
        )
    # A dedicated address of another company would make the sender unknown again.
    if inbound.company_id is not None and inbound.company_id != company.pk:
        raise ValidationError(
            _("This e-mail was sent to %(company)s's address.") % {"company": inbound.company}
        )
    inbound.state = InboundState.RECEIVED
    inbound.decided_by = decided_by
    inbound.save(update_fields=["state", "decided_by"])
    return mail_process(inbound_id=inbound.pk, now=now)


def inbound_reject(
    *, inbound: InboundMail, decided_by: User, now: datetime.datetime | None = None
) -> InboundMail:
    """An agent turns down an unknown sender's or an unreadable e-mail; it stays stored."""
    updated = InboundMail.objects.filter(pk=inbound.pk, state__in=NEEDS_AGENT_STATES).update(
        state=InboundState.REJECTED, decided_by=decided_by, processed_at=now or timezone.now()
    )
    if not updated:
        raise ValidationError(_("This e-mail was already dealt with."))
    inbound.refresh_from_db()
    return inbound
