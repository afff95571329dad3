"""Every write of the chat: start, post, read, take, close, turn into or attach to a ticket,
leave a message, the agents' presence, and the backup's alert.

Each write is stored and committed before anyone is told of it (`chat.broadcast`).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrPromise

from accounts.models import Role, User
from accounts.selectors import company_holds_addon
from chat import broadcast
from chat.models import (
    OPEN_CONVERSATION_STATUSES,
    PRESENCE_HEARTBEAT,
    AgentPresence,
    ChatFile,
    ChatMessage,
    Conversation,
    ConversationStatus,
    Door,
    PresenceStatus,
    Side,
)
from chat.selectors import (
    chat_contacts,
    conversation_status_payload,
    is_chat_agent,
    message_payload,
)
from outbox.services import email_queue
from tickets import services as ticket_services
from tickets.attachments import checked_files_store, files_check
from tickets.markdown import render_markdown
from tickets.models import MAX_TEXT_LENGTH, Channel, Severity, Ticket
from vipsupport.mail import AUTOMATIC_HEADERS, render_subject_and_body

# "After 2 minutes unanswered, the backup" (the chat issue).
BACKUP_AFTER = datetime.timedelta(minutes=2)
MAX_MESSAGE_LENGTH = 5_000
# A transcript goes on the ticket in pieces that each fit a ticket message.
TRANSCRIPT_PIECE = MAX_TEXT_LENGTH - 1_000

CHAT_CLOSED = gettext_lazy("This chat is closed.")


def _require_text(body: str, *, allow_empty: bool) -> str:
    body = body.strip()
    if not body and not allow_empty:
        raise ValidationError({"body": _("Write a message.")})
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            {
                "body": _(
                    "A chat message can be at most %(limit)d characters (this one has %(length)d)."
                )
                % {"limit": MAX_MESSAGE_LENGTH, "length": len(body)}
            }
        )
    return body


def _side_of(user: User, conversation: Conversation) -> Side:
    if user.pk == conversation.customer_id:
        return Side.CUSTOMER
    if is_chat_agent(user):
        return Side.STAFF
    raise ValidationError(_("Only the customer and the desk's agents write in this chat."))


def _announce_message(message: ChatMessage, files: Sequence[ChatFile] = ()) -> None:
    payload = {"type": "message", "message": message_payload(message, files=files)}
    broadcast.send_after_commit(broadcast.conversation_group(message.conversation_id), payload)


def _announce_status(conversation: Conversation) -> None:
    conversation_id = conversation.pk
    transaction.on_commit(
        lambda: broadcast.send_now(
            broadcast.conversation_group(conversation_id),
            conversation_status_payload(conversation_id=conversation_id),
        )
    )
    broadcast.send_after_commit(broadcast.STAFF_GROUP, {"type": "inbox"})


def _system_message(
    conversation: Conversation,
    template: StrPromise,
    params: dict[str, object],
    at: datetime.datetime,
) -> ChatMessage:
    """A line about the chat itself, written once in the customer's language (staff read both)."""
    with translation.override(conversation.customer.preferred_language):
        text = str(template) % params
    message = ChatMessage.objects.create(
        conversation=conversation,
        side=Side.SYSTEM,
        body=text,
        body_html=render_markdown(text),
        created_at=at,
    )
    _announce_message(message)
    return message


@transaction.atomic
def conversation_start(
    *,
    customer: User,
    door: Door,
    body: str,
    client_id: uuid.UUID | None = None,
    files: Sequence[UploadedFile] = (),
    at: datetime.datetime | None = None,
) -> Conversation:
    """Open a chat with its first message, or add the message to the customer's chat already
    open at that door; a VIP chat alerts the dedicated agent, and the backup 2 minutes later."""
    at = at or timezone.now()
    if customer.role != Role.CUSTOMER or customer.company is None:
        raise ValidationError(_("Only customers start a chat."))
    company = customer.company
    is_vip = company_holds_addon(company=company, at=at)
    if door == Door.DEDICATED and not is_vip:
        raise ValidationError(_("Your company has no dedicated agent."))
    _require_text(body, allow_empty=bool(files))

    def post_to(conversation: Conversation) -> Conversation:
        chat_message_post(
            conversation=conversation,
            author=customer,
            body=body,
            client_id=client_id,
            files=files,
            at=at,
        )
        return conversation

    existing = _open_conversation(customer, door)
    if existing is not None:
        return post_to(existing)
    first, backup = chat_contacts(company=company, at=at) if is_vip else (None, None)
    conversation = Conversation(
        company=company,
        customer=customer,
        door=door,
        is_vip=is_vip,
        requested_agent=first,
        backup_agent=backup,
        backup_alert_at=at + BACKUP_AFTER if backup is not None else None,
        created_at=at,
        last_message_at=at,
    )
    conversation.full_clean(exclude=["company", "customer", "requested_agent", "backup_agent"])
    try:
        with transaction.atomic():
            conversation.save()
    except IntegrityError:  # the same customer started it at the same moment in another tab
        existing = _open_conversation(customer, door)
        if existing is None:
            raise
        return post_to(existing)
    post_to(conversation)
    broadcast.send_after_commit(broadcast.STAFF_GROUP, {"type": "inbox"})
    if first is not None:
        _alert_agent(conversation, first, at=at)
    if conversation.backup_alert_at is not None:
        _schedule_backup_alert(conversation)
    return conversation


def _schedule_backup_alert(conversation: Conversation) -> None:
    from chat.tasks import alert_chat_backup

    conversation_id, due = conversation.pk, conversation.backup_alert_at
    assert due is not None
    # The Beat scan (`alert_waiting_chat_backups`) catches a task the broker lost.
    transaction.on_commit(
        lambda: alert_chat_backup.apply_async(args=(conversation_id,), eta=due), robust=True
    )


def _open_conversation(customer: User, door: Door) -> Conversation | None:
    return (
        Conversation.objects.select_for_update()
        .filter(
            customer=customer,
            door=door,
            status__in=[ConversationStatus.WAITING, ConversationStatus.ACTIVE],
        )
        .first()
    )


@transaction.atomic
def chat_message_post(
    *,
    conversation: Conversation,
    author: User,
    body: str,
    client_id: uuid.UUID | None = None,
    files: Sequence[UploadedFile] = (),
    at: datetime.datetime | None = None,
) -> ChatMessage:
    """Store a message (once per `client_id`: a resend gives back the stored one) with its files,
    and broadcast it after commit; an agent writing in a waiting chat takes it."""
    at = at or timezone.now()
    side = _side_of(author, conversation)
    if client_id is not None:
        earlier = ChatMessage.objects.filter(conversation=conversation, client_id=client_id).first()
        if earlier is not None:
            return earlier
    body = _require_text(body, allow_empty=bool(files))
    checked = files_check(files=files)
    read_field = "customer_read_up_to" if side == Side.CUSTOMER else "staff_read_up_to"
    # A customer's line takes no lock first: the conversation's update below, which only an open
    # chat passes, keeps it, or (closed meanwhile) rolls it back with the transaction. Files, and
    # staff (whose first line takes a waiting chat), go the careful way.
    careful = side == Side.STAFF or bool(files)
    if careful:
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if not locked.is_open:
            raise ValidationError(CHAT_CLOSED)
        if side == Side.STAFF and locked.status == ConversationStatus.WAITING:
            _take(locked, author, at)
        conversation.status, conversation.agent_id = locked.status, locked.agent_id
    message = ChatMessage(
        conversation=conversation,
        author=author,
        side=side,
        body=body,
        client_id=client_id,
        created_at=at,
    )
    message.body_html = render_markdown(body) if body else ""
    message.save()
    stored = checked_files_store(
        files=files,
        checked=checked,
        row_for=lambda found: ChatFile(
            conversation=conversation,
            message=message,
            original_name=found.name,
            content_type=found.file_type.content_type,
            size=found.size,
            created_at=at,
        ),
    )
    # The writer has read everything up to their own message.
    kept = Conversation.objects.filter(
        pk=conversation.pk, status__in=OPEN_CONVERSATION_STATUSES
    ).update(last_message_at=at, **{read_field: message.pk})
    if not kept:
        raise ValidationError(CHAT_CLOSED)
    _announce_message(message, stored)
    return message


def conversation_read(*, conversation: Conversation, reader: User, up_to: int) -> bool:
    """Mark the conversation read by the reader's side up to message `up_to`; only ever
    forward, and only to a message that exists. Tells the other side when it moved."""
    side = _side_of(reader, conversation)
    field = "customer_read_up_to" if side == Side.CUSTOMER else "staff_read_up_to"
    newest = (
        ChatMessage.objects.filter(conversation=conversation, pk__lte=up_to)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if newest is None:
        return False
    moved = Conversation.objects.filter(pk=conversation.pk, **{f"{field}__lt": newest}).update(
        **{field: newest}
    )
    if moved:
        broadcast.send_now(
            broadcast.conversation_group(conversation.pk),
            {"type": "read", "side": side.value, "up_to": newest},
        )
    return bool(moved)


def _take(conversation: Conversation, agent: User, at: datetime.datetime) -> None:
    conversation.status = ConversationStatus.ACTIVE
    conversation.agent = agent
    conversation.taken_at = at
    conversation.save(update_fields=["status", "agent", "taken_at"])
    _system_message(conversation, gettext_lazy("%(agent)s joined the chat."), {"agent": agent}, at)
    _announce_status(conversation)


@transaction.atomic
def conversation_take(
    *, conversation: Conversation, agent: User, at: datetime.datetime | None = None
) -> Conversation:
    """The agent answers a waiting chat; a chat someone else took first is refused."""
    at = at or timezone.now()
    if not is_chat_agent(agent):
        raise ValidationError(_("Only agents take chats."))
    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("agent")
        .get(pk=conversation.pk)
    )
    if locked.status == ConversationStatus.CLOSED:
        raise ValidationError(CHAT_CLOSED)
    if locked.status == ConversationStatus.ACTIVE:
        if locked.agent_id == agent.pk:
            return locked
        raise ValidationError(_("%(agent)s has already taken this chat.") % {"agent": locked.agent})
    _take(locked, agent, at)
    return locked


@transaction.atomic
def conversation_close(
    *, conversation: Conversation, actor: User, at: datetime.datetime | None = None
) -> Conversation:
    """End the chat; its linked ticket gets the rest of the transcript."""
    at = at or timezone.now()
    _side_of(actor, conversation)
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status == ConversationStatus.CLOSED:
        return locked
    _system_message(locked, gettext_lazy("%(user)s ended the chat."), {"user": actor}, at)
    locked.status = ConversationStatus.CLOSED
    locked.closed_at = at
    locked.save(update_fields=["status", "closed_at"])
    if locked.ticket_id is not None:
        _transcribe(locked, actor=actor, at=at)
    _announce_status(locked)
    return locked


@transaction.atomic
def conversation_to_ticket(
    *,
    conversation: Conversation,
    agent: User,
    subject: str,
    severity: int,
    at: datetime.datetime | None = None,
) -> Ticket:
    """Open a chat ticket for the customer from the conversation, assigned to the agent, with the
    transcript so far on its timeline (and the rest when the chat ends)."""
    at = at or timezone.now()
    locked = _lock_for_linking(conversation, agent)
    first = locked.messages.filter(side=Side.CUSTOMER).exclude(body="").first()
    ticket = ticket_services.ticket_create(
        requester=locked.customer,
        subject=subject,
        description=first.body if first is not None else subject,
        severity=severity,
        channel=Channel.CHAT,
        created_by=agent,
        assignee=agent,
        at=at,
    )
    _link(locked, ticket, agent, at)
    return ticket


@transaction.atomic
def conversation_attach(
    *, conversation: Conversation, agent: User, ticket: Ticket, at: datetime.datetime | None = None
) -> Ticket:
    """Keep the chat on one of the customer's company's tickets."""
    at = at or timezone.now()
    locked = _lock_for_linking(conversation, agent)
    if ticket.company_id != locked.company_id:
        raise ValidationError(
            {"ticket": _("Choose a ticket of %(company)s.") % {"company": locked.company}}
        )
    if ticket.is_closed:
        raise ValidationError(
            {"ticket": _("Ticket #%(number)d is closed.") % {"number": ticket.pk}}
        )
    _link(locked, ticket, agent, at)
    return ticket


def _lock_for_linking(conversation: Conversation, agent: User) -> Conversation:
    if not is_chat_agent(agent):
        raise ValidationError(_("Only agents file chats on tickets."))
    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("customer", "company")
        .get(pk=conversation.pk)
    )
    if locked.ticket_id is not None:
        raise ValidationError(
            _("This chat is already on ticket #%(number)d.") % {"number": locked.ticket_id}
        )
    return locked


def _link(conversation: Conversation, ticket: Ticket, agent: User, at: datetime.datetime) -> None:
    conversation.ticket = ticket
    conversation.save(update_fields=["ticket"])
    _transcribe(conversation, actor=agent, at=at)
    _system_message(
        conversation,
        gettext_lazy("This chat is kept on ticket #%(number)d."),
        {"number": ticket.pk},
        at,
    )
    _announce_status(conversation)


def _transcribe(conversation: Conversation, *, actor: User, at: datetime.datetime) -> None:
    """Copy the messages not yet on the ticket to its timeline, in the customer's language."""
    assert conversation.ticket is not None
    messages = list(
        conversation.messages.filter(pk__gt=conversation.transcribed_up_to)
        .select_related("author")
        .prefetch_related("files")
    )
    if not messages:
        return
    customer = conversation.customer
    # In the customer's language and zone, the zone named: the ticket is theirs.
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        heading = _("Chat #%(number)d, %(date)s (times in %(zone)s)") % {
            "number": conversation.pk,
            "date": formats.date_format(timezone.localtime(messages[0].created_at), "DATE_FORMAT"),
            "zone": customer.time_zone,
        }
        lines = [_transcript_line(message) for message in messages]
    for piece in _pieces(heading, lines):
        ticket_services.ticket_record_chat(
            ticket=conversation.ticket, transcript=piece, actor=actor, at=at
        )
    Conversation.objects.filter(pk=conversation.pk).update(transcribed_up_to=messages[-1].pk)
    conversation.transcribed_up_to = messages[-1].pk


def _transcript_line(message: ChatMessage) -> str:
    moment = timezone.localtime(message.created_at).strftime("%H:%M")
    who = _("System") if message.author is None else str(message.author)
    text = message.body.replace("\n", "\n> ") if message.body else ""
    files = ", ".join(chat_file.original_name for chat_file in message.files.all())
    if files:
        text = f"{text}\n> ({_('files')}: {files})" if text else f"({_('files')}: {files})"
    return f"**{who}** {moment}\n> {text}"


def _pieces(heading: str, lines: list[str]) -> list[str]:
    pieces: list[str] = []
    current = f"{heading}\n"
    for line in lines:
        line = line[:TRANSCRIPT_PIECE]
        if len(current) + len(line) + 2 > TRANSCRIPT_PIECE:
            pieces.append(current)
            current = f"{heading}\n"
        current += f"\n{line}\n"
    pieces.append(current)
    return pieces


@transaction.atomic
def chat_leave_message(*, customer: User, body: str, at: datetime.datetime | None = None) -> Ticket:
    """The dedicated chat while nobody can answer: the message becomes a chat ticket for the
    dedicated agent, its clock started by the out-of-hours rule."""
    at = at or timezone.now()
    if customer.role != Role.CUSTOMER or customer.company is None:
        raise ValidationError(_("Only customers leave messages."))
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write your message.")})
    first_line = body.splitlines()[0].strip()
    subject = _("Chat message: %(text)s") % {"text": first_line}
    if len(subject) > 200:
        subject = subject[:199] + "…"
    first, _backup = chat_contacts(company=customer.company, at=at)
    ticket = ticket_services.ticket_create(
        requester=customer,
        subject=subject,
        description=body,
        severity=Severity.STANDARD,
        channel=Channel.CHAT,
        assignee=first,
        at=at,
    )
    return Ticket.objects.get(pk=ticket.pk)


def presence_touch(*, agent: User, at: datetime.datetime | None = None) -> None:
    """The agent has a staff page open; written at most once per heartbeat."""
    at = at or timezone.now()
    updated = AgentPresence.objects.filter(
        agent=agent, seen_at__lt=at - PRESENCE_HEARTBEAT / 2
    ).update(seen_at=at)
    if not updated:
        AgentPresence.objects.get_or_create(agent=agent, defaults={"seen_at": at})


def presence_set_status(
    *, agent: User, status: PresenceStatus, at: datetime.datetime | None = None
) -> AgentPresence:
    at = at or timezone.now()
    if not is_chat_agent(agent):
        raise ValidationError(_("Only agents take chats."))
    presence, _created = AgentPresence.objects.update_or_create(
        agent=agent, defaults={"status": status, "seen_at": at}
    )
    broadcast.send_after_commit(broadcast.STAFF_GROUP, {"type": "inbox"})
    return presence


def _alert_agent(conversation: Conversation, agent: User, *, at: datetime.datetime) -> None:
    """A live alert on the agent's open pages and an e-mail, after commit."""
    preview = (
        conversation.messages.filter(side=Side.CUSTOMER).values_list("body", flat=True).first()
    )
    url = reverse("chat:staff-conversation", args=[conversation.pk])
    broadcast.send_after_commit(
        broadcast.agent_group(agent.pk),
        {
            "type": "alert",
            "conversation": conversation.pk,
            "url": url,
            "company": str(conversation.company),
            "customer": str(conversation.customer),
            "preview": (preview or "")[:140],
        },
    )
    with translation.override(agent.preferred_language), timezone.override(agent.time_zone):
        subject, text = render_subject_and_body(
            "chat/email/waiting_subject.txt",
            "chat/email/waiting_body.txt",
            {
                "conversation": conversation,
                "agent": agent,
                "preview": preview or "",
                "link": settings.PORTAL_URL.rstrip("/") + url,
                "is_backup": conversation.backup_agent_id == agent.pk
                and conversation.requested_agent_id != agent.pk,
            },
        )
    email_queue(
        message=EmailMessage(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[agent.email],
            headers=AUTOMATIC_HEADERS,
        ),
        now=at,
        topic=f"chat:{conversation.pk}",
        # A chat e-mail is only worth sending while someone may still be waiting.
        expires_at=at + datetime.timedelta(hours=1),
    )


@transaction.atomic
def conversation_alert_backup(*, conversation_id: int, now: datetime.datetime) -> bool:
    """Alert the backup of a VIP chat still waiting at its `backup_alert_at`; claimed with a
    conditional update, so a repeated or concurrent run alerts once."""
    claimed = Conversation.objects.filter(
        pk=conversation_id,
        status=ConversationStatus.WAITING,
        backup_alerted_at__isnull=True,
        backup_alert_at__lte=now,
    ).update(backup_alerted_at=now)
    if not claimed:
        return False
    conversation = Conversation.objects.select_related("backup_agent", "company", "customer").get(
        pk=conversation_id
    )
    assert conversation.backup_agent is not None
    _alert_agent(conversation, conversation.backup_agent, at=now)
    return True


def conversations_alert_backups(*, now: datetime.datetime | None = None) -> int:
    """Alert the backups of every VIP chat waiting past its 2 minutes; one claim per chat."""
    now = now or timezone.now()
    due = Conversation.objects.filter(
        status=ConversationStatus.WAITING,
        backup_alerted_at__isnull=True,
        backup_alert_at__lte=now,
    ).values_list("pk", flat=True)[:500]
    return sum(conversation_alert_backup(conversation_id=pk, now=now) for pk in list(due))
