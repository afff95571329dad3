"""Mail in: one ingestion service every transport calls (SMTP receiver, IMAP poller, MTA pipe).

`mails_ingest` stores a batch of raw messages first (one commit), then reads them and acts, in a
second transaction: new tickets, replies on them, automatic mail kept for agents, or unknown
senders held for an agent. `mail_ingest`, for a transport holding one message, is the batch of
one. It is idempotent by Message-ID, so a repeated delivery (in another batch or the same one)
makes nothing twice, and a message it cannot read stays stored and flagged, never lost: when
acting on a batch fails, each of its messages is acted on alone, and only the failing one is
flagged.

A batch is read with one query per kind of lookup (routes, senders, threads, colleagues,
dedicated agents) and its new tickets are written together (`tickets_create_bulk`, with their
SLA targets, events, notifications and outbox rows); replies and automatic mail go through the
ticket services one by one. A message answering another of the same batch waits for the next
round of lookups, so it threads exactly as if the two had come one after the other.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.selectors import companies_assigned_agents, dedicated_contact_of
from accounts.services import customer_create
from desk.selectors import desk_clock
from mail.addresses import Route, is_our_address, mail_routes
from mail.models import NEEDS_AGENT_STATES, InboundMail, InboundState, ThreadId, Transport
from mail.outgoing import acknowledgement_send, bounce_send
from mail.parsing import MailUnreadable, ParsedMail, mail_parse, message_id_of
from mail.trim import trim_reply
from tickets import services as ticket_services
from tickets.attachments import MAX_FILES_PER_MESSAGE, attachments_validate
from tickets.models import MAX_TEXT_LENGTH, Channel, Severity, Status, Ticket
from vipsupport.bulk import rows_update
from vipsupport.read_once import read_once

logger = logging.getLogger(__name__)

_TAG = re.compile(r"\[#(\d{1,18})\]")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|отг|пр)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
# The fields acting on a message sets on its row (one UPDATE for the batch).
_PROCESSED_FIELDS = [
    "sender",
    "sender_name",
    "subject",
    "full_text",
    "html",
    "recipient",
    "company",
    "state",
    "problem",
    "ticket",
    "ticket_message",
    "processed_at",
]


@dataclass(frozen=True)
class Delivery:
    """One message as a transport received it."""

    raw: bytes
    received_at: datetime.datetime
    transport: Transport
    envelope_sender: str | None = None  # "" is a bounce's null return path; None: not known
    envelope_recipients: Sequence[str] = ()


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
    delivery = Delivery(
        raw=raw,
        received_at=received_at,
        transport=transport,
        envelope_sender=envelope_sender,
        envelope_recipients=envelope_recipients,
    )
    return mails_ingest(deliveries=[delivery], now=now)[0]


def mails_ingest(
    *, deliveries: Sequence[Delivery], now: datetime.datetime | None = None
) -> list[InboundMail]:
    """Store every delivery (one commit for the batch) and act on each stored message once; the
    rows come back in the deliveries' order (a repeated one: the row stored first, unchanged).

    Raises only when storage or the database fails, so the transport can try again: what was
    stored stays stored, and acting on it is picked up again (`mails_process_waiting`).
    """
    now = now or timezone.now()
    stored, raws = _stored(deliveries)
    waiting = list(dict.fromkeys(row.pk for row in stored if row.state == InboundState.RECEIVED))
    processed = {row.pk: row for row in _process_batch(waiting, now=now, raws=raws)}
    return [processed.get(row.pk, row) for row in stored]


def _stored(deliveries: Sequence[Delivery]) -> tuple[list[InboundMail], dict[int, bytes]]:
    """The rows of the deliveries, in their order: the ones already stored read, the new ones
    inserted with their raw files written, in one transaction; each Message-ID stored once.
    Also the bytes of the rows this call stored, by row, so acting on them reads no file."""
    if not deliveries:
        return [], {}
    message_ids = [message_id_of(delivery.raw) for delivery in deliveries]
    rows = {row.message_id: row for row in InboundMail.objects.filter(message_id__in=message_ids)}
    new: dict[str, tuple[InboundMail, bytes]] = {}
    for message_id, delivery in zip(message_ids, deliveries, strict=True):
        if message_id in rows:
            continue
        inbound = InboundMail(
            message_id=message_id,
            size=len(delivery.raw),
            transport=delivery.transport,
            received_at=delivery.received_at,
            # "" is a bounce's null return path; None: the transport does not know it.
            envelope_sender=(
                "<>" if delivery.envelope_sender == "" else (delivery.envelope_sender or "")[:254]
            ),
            recipient=",".join(delivery.envelope_recipients)[:254],
        )
        inbound.raw.save("message.eml", ContentFile(delivery.raw), save=False)
        rows[message_id] = inbound
        new[message_id] = (inbound, delivery.raw)
    if new:
        try:
            with transaction.atomic():
                InboundMail.objects.bulk_create([inbound for inbound, _raw in new.values()])
        except IntegrityError:  # one of them delivered at the same time by another transport
            for inbound, _raw in new.values():
                inbound.raw.delete(save=False)
            if len(deliveries) == 1:
                return [InboundMail.objects.get(message_id=message_ids[0])], {}
            stored: list[InboundMail] = []
            raws: dict[int, bytes] = {}
            for delivery in deliveries:
                rows_of_one, raws_of_one = _stored([delivery])
                stored.extend(rows_of_one)
                raws.update(raws_of_one)
            return stored, raws
    return [rows[message_id] for message_id in message_ids], {
        inbound.pk: raw for inbound, raw in new.values()
    }


def mail_process(*, inbound_id: int, now: datetime.datetime) -> InboundMail:
    """Act on a stored message that is still waiting; one that cannot be read is flagged."""
    return mails_process(inbound_ids=[inbound_id], now=now)[0]


def mails_process(*, inbound_ids: Sequence[int], now: datetime.datetime) -> list[InboundMail]:
    """Act on stored messages that are still waiting, as one batch; each one that cannot be read
    is flagged. Returns the rows in the given order (one already dealt with: unchanged)."""
    rows = {row.pk: row for row in _process_batch(list(dict.fromkeys(inbound_ids)), now=now)}
    return [rows[pk] for pk in inbound_ids if pk in rows]


def _process_batch(
    inbound_ids: list[int], *, now: datetime.datetime, raws: dict[int, bytes] | None = None
) -> list[InboundMail]:
    """One transaction for the batch; when it fails, each message alone, and a single message
    that fails is flagged for an agent (its own transaction)."""
    if not inbound_ids:
        return []
    try:
        with transaction.atomic(), read_once():
            rows = list(InboundMail.objects.select_for_update().filter(pk__in=inbound_ids))
            _act(rows, order=inbound_ids, now=now, raws=raws or {})
    except (OperationalError, InterfaceError):
        raise  # the database is down: the transport tries again later
    except Exception as error:  # a message we cannot act on must still reach an agent
        if len(inbound_ids) > 1:
            logger.warning("A batch of %d e-mails failed; acting on each alone", len(inbound_ids))
            return [row for pk in inbound_ids for row in _process_batch([pk], now=now, raws=raws)]
        logger.exception("Received e-mail %s could not be read", inbound_ids[0])
        return [_flagged(inbound_ids[0], error=error, now=now)]
    return rows


def _flagged(inbound_id: int, *, error: Exception, now: datetime.datetime) -> InboundMail:
    with transaction.atomic():
        inbound = InboundMail.objects.select_for_update().get(pk=inbound_id)
        if inbound.state != InboundState.RECEIVED:
            return inbound
        inbound.state = InboundState.UNREADABLE
        inbound.problem = f"{type(error).__name__}: {error}"[:2000]
        inbound.ticket = inbound.ticket_message = None
        inbound.processed_at = now
        inbound.save()
    return inbound


def mails_process_waiting(*, now: datetime.datetime | None = None, older_than: int = 60) -> int:
    """Act on messages stored but never processed (a transport died between the two steps)."""
    now = now or timezone.now()
    waiting = list(
        InboundMail.objects.filter(
            state=InboundState.RECEIVED,
            received_at__lte=now - datetime.timedelta(seconds=older_than),
        ).values_list("pk", flat=True)[:100]
    )
    mails_process(inbound_ids=waiting, now=now)
    return len(waiting)


@dataclass
class _Mail:
    """A message of the batch being acted on, with what the batch's lookups found for it."""

    inbound: InboundMail
    parsed: ParsedMail
    route: Route | None = None
    automated: str = ""
    requester: User | None = None
    ticket: Ticket | None = None  # the ticket it answers
    new_ticket: ticket_services.NewTicket | None = None
    files: list[UploadedFile] = field(default_factory=list)


def _act(
    rows: list[InboundMail], *, order: Sequence[int], now: datetime.datetime, raws: dict[int, bytes]
) -> None:
    position = {pk: number for number, pk in enumerate(order)}
    waiting = sorted(
        (row for row in rows if row.state == InboundState.RECEIVED),
        key=lambda row: position[row.pk],
    )
    if not waiting:
        return
    mails = [
        _Mail(inbound, parsed)
        for inbound in waiting
        if (parsed := _read(inbound, raws.get(inbound.pk))) is not None
    ]
    routes = mail_routes(
        requests=[
            (
                [address for address in mail.inbound.recipient.split(",") if address]
                or [*mail.parsed.recipients, *mail.parsed.cc],
                mail.inbound.received_at,
            )
            for mail in mails
        ]
    )
    taken: list[_Mail] = []
    for mail, route in zip(mails, routes, strict=True):
        if _screened(mail, route=route, now=now):
            taken.append(mail)
    requesters = _requesters(taken)
    for mail in taken:
        assert mail.route is not None
        requester = requesters.get(mail.parsed.sender.lower()) if mail.parsed.sender else None
        if requester is not None and (
            mail.route.company is not None and requester.company_id != mail.route.company.pk
        ):
            requester = None
        mail.requester = requester
        mail.inbound.company = mail.route.company or (requester.company if requester else None)
    clock = desk_clock()
    for batch in _rounds(taken):
        _act_round(batch, now=now, clock_is_open=clock.is_open)
    for inbound in waiting:
        inbound.processed_at = now
    rows_update(objects=waiting, fields=_PROCESSED_FIELDS)


def _read(inbound: InboundMail, raw: bytes | None) -> ParsedMail | None:
    """The parsed message, its headers and text copied to its row; None when it is unreadable."""
    if raw is None:
        with inbound.raw.open("rb") as file:
            raw = file.read()
    try:
        parsed = mail_parse(raw)
    except MailUnreadable as error:
        inbound.state = InboundState.UNREADABLE
        inbound.problem = str(error)
        return None
    inbound.sender = parsed.sender[:254]
    inbound.sender_name = parsed.sender_name
    inbound.subject = parsed.subject[:998]
    inbound.full_text = parsed.text[: MAX_TEXT_LENGTH * 4]
    inbound.html = parsed.html[: MAX_TEXT_LENGTH * 4]
    return parsed


def _screened(mail: _Mail, *, route: Route, now: datetime.datetime) -> bool:
    """Route the message and tell automatic mail apart; False for mail too large to take (it is
    refused, with a bounce to a person)."""
    inbound, parsed = mail.inbound, mail.parsed
    mail.route = route
    inbound.recipient = route.address
    return_path = "" if inbound.envelope_sender == "<>" else parsed.return_path
    automated = parsed.automated_because or (
        "a bounce (null return path)" if return_path == "" else ""
    )
    if not automated and is_our_address(parsed.sender):
        automated = "sent from one of our own addresses"
    mail.automated = automated
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
        return False
    return True


def _requesters(mails: list[_Mail]) -> dict[str, User]:
    """The known, active customers who sent these messages, by lower-cased address; one query."""
    addresses = {mail.parsed.sender.lower() for mail in mails if mail.parsed.sender}
    if not addresses:
        return {}
    anyone = Q()
    for address in addresses:
        anyone |= Q(email__iexact=address)
    users: dict[str, User] = {}
    for user in (
        User.objects.filter(anyone, is_active=True, company__isnull=False)
        .select_related("company")
        .order_by("email")
    ):
        users.setdefault(user.email.lower(), user)
    return users


def _rounds(mails: list[_Mail]) -> list[list[_Mail]]:
    """The batch in rounds: a message answering one earlier in its round starts the next, so the
    ticket it answers exists when its thread is looked up."""
    rounds: list[list[_Mail]] = [[]]
    ids: set[str] = set()
    for mail in mails:
        if not ids.isdisjoint(mail.parsed.thread_ids):
            rounds.append([])
            ids = set()
        rounds[-1].append(mail)
        ids.add(mail.parsed.message_id)
    return [batch for batch in rounds if batch]


def _act_round(
    mails: list[_Mail],
    *,
    now: datetime.datetime,
    clock_is_open: Callable[[datetime.datetime], bool],
) -> None:
    _thread(mails)
    delivered: list[_Mail] = []
    for mail in mails:
        inbound, parsed, ticket = mail.inbound, mail.parsed, mail.ticket
        if mail.automated:
            inbound.state = InboundState.AUTOMATED
            inbound.problem = mail.automated
            if ticket is not None:
                inbound.ticket = ticket
                inbound.ticket_message = ticket_services.ticket_record_automatic(
                    ticket=ticket,
                    body=_automatic_summary(parsed, mail.automated),
                    at=inbound.received_at,
                )
            continue
        if mail.requester is None:
            inbound.state = InboundState.UNVERIFIED
            continue
        delivered.append(mail)
        files, refused = _acceptable_files(parsed)
        text = _ticket_text(parsed, refused)
        if ticket is not None and ticket.status != Status.CLOSED:
            inbound.ticket = ticket
            inbound.ticket_message = ticket_services.ticket_reply(
                ticket=ticket, author=mail.requester, body=text, files=files, at=inbound.received_at
            )
            inbound.state = InboundState.REPLY
            continue
        if ticket is not None:  # a closed ticket takes no replies: the answer opens a new one
            text = _("Follow-up to the closed ticket #%(pk)s.") % {"pk": ticket.pk} + "\n\n" + text
        mail.files = files
        mail.new_ticket = _new_ticket(mail, text=text)
        inbound.state = InboundState.TICKET
    opening = [mail for mail in delivered if mail.new_ticket is not None]
    _with_colleagues_and_agents(opening)
    created = ticket_services.tickets_create_bulk(
        tickets=[mail.new_ticket for mail in opening if mail.new_ticket is not None], now=now
    )
    for mail, created_ticket in zip(opening, created, strict=True):
        mail.inbound.ticket = created_ticket
    ThreadId.objects.bulk_create(
        [
            ThreadId(
                value=mail.parsed.message_id,
                ticket=mail.inbound.ticket,
                is_ours=False,
                created_at=now,
            )
            for mail in delivered
        ],
        ignore_conflicts=True,
    )
    for mail in delivered:
        if not clock_is_open(mail.inbound.received_at):
            assert mail.inbound.ticket is not None
            acknowledgement_send(
                ticket=mail.inbound.ticket,
                to=mail.parsed.sender,
                answers=mail.parsed.message_id,
                received_at=mail.inbound.received_at,
                now=now,
            )


def _thread(mails: list[_Mail]) -> None:
    """The ticket each message answers: by its In-Reply-To/References, then by a "[#123]" tag;
    one query for the ids and one for the tags of the whole round.

    For a person's mail only their company's tickets count; automatic mail (a bounce, an absence
    notice) follows only ids we sent, which nobody can guess.
    """
    people = [mail for mail in mails if not mail.automated and mail.requester is not None]
    threading = [mail for mail in mails if mail.automated or mail.requester is not None]
    values = {value for mail in threading for value in mail.parsed.thread_ids}
    known = (
        {
            row.value: row
            for row in ThreadId.objects.filter(value__in=values).select_related("ticket")
        }
        if values
        else {}
    )
    numbers = {int(number) for mail in people for number in _TAG.findall(mail.parsed.subject)}
    tagged = (
        {ticket.pk: ticket for ticket in Ticket.objects.filter(pk__in=numbers)} if numbers else {}
    )
    for mail in threading:
        company_id = None if mail.automated or mail.requester is None else mail.requester.company_id
        mail.ticket = _thread_of(mail.parsed, company_id=company_id, known=known, tagged=tagged)


def _thread_of(
    parsed: ParsedMail,
    *,
    company_id: int | None,
    known: dict[str, ThreadId],
    tagged: dict[int, Ticket],
) -> Ticket | None:
    for value in parsed.thread_ids:
        row = known.get(value)
        if row is not None and (
            row.is_ours if company_id is None else row.ticket.company_id == company_id
        ):
            return row.ticket
    if company_id is None:
        return None
    for number in _TAG.findall(parsed.subject):
        ticket = tagged.get(int(number))
        if ticket is not None and ticket.company_id == company_id:
            return ticket
    return None


def _new_ticket(mail: _Mail, *, text: str) -> ticket_services.NewTicket:
    """The ticket a person's mail opens, its copied colleagues and agent still to be found."""
    requester, route, parsed = mail.requester, mail.route, mail.parsed
    assert requester is not None
    assert route is not None
    company = requester.company
    assert company is not None
    # The subject is the customer's words, never a severity: "URGENT Sev 1" starts at the
    # default, and the agent changes it.
    severity = Severity.STANDARD if route.dedicated else company.mail_severity
    subject = _REPLY_PREFIX.sub("", _TAG.sub("", parsed.subject)).strip() or _("(no subject)")
    return ticket_services.NewTicket(
        requester=requester,
        subject=subject[:200],
        description=text,
        severity=severity,
        channel=Channel.EMAIL,
        files=mail.files,
        at=mail.inbound.received_at,
    )


def _with_colleagues_and_agents(mails: list[_Mail]) -> None:
    """Copy the requester's colleagues in copy onto each new ticket, and hand a dedicated
    address's ticket to the company's dedicated agent (or the backup standing in); one query
    each for the whole round."""
    copied: dict[int, set[str]] = {}
    for mail in mails:
        assert mail.requester is not None
        copied[id(mail)] = {
            address
            for address in [*mail.parsed.recipients, *mail.parsed.cc]
            if address != mail.requester.email
        }
    companies = {
        mail.requester.company_id
        for mail in mails
        if mail.requester is not None and mail.requester.company_id is not None
    }
    addresses = set().union(*copied.values()) if copied else set()
    colleagues = (
        list(User.objects.filter(company_id__in=companies, is_active=True, email__in=addresses))
        if addresses
        else []
    )
    dedicated = {
        company_id
        for mail in mails
        if mail.requester is not None
        and (company_id := mail.requester.company_id) is not None
        and mail.route is not None
        and mail.route.dedicated
    }
    agents = companies_assigned_agents(company_ids=dedicated)
    for mail in mails:
        assert mail.requester is not None
        assert mail.route is not None
        assert mail.new_ticket is not None
        assert mail.requester.company_id is not None
        company_id = mail.requester.company_id
        contact = (
            dedicated_contact_of(agents=agents.get(company_id, {}), at=mail.inbound.received_at)
            if mail.route.dedicated
            else None
        )
        mail.new_ticket = replace(
            mail.new_ticket,
            cc=[
                user
                for user in colleagues
                if user.company_id == company_id and user.email in copied[id(mail)]
            ],
            assignee=contact.agent if contact else None,
        )


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
