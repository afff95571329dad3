"""Reads of the chat: who may see a conversation, its messages for a socket, the agents' inbox,
and the state of a VIP customer's dedicated button."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from accounts.models import (
    ADMINISTRATORS_GROUP,
    MANAGERS_GROUP,
    AssignmentRole,
    Role,
    User,
)
from accounts.permissions import STAFF_ROLES
from accounts.selectors import company_assigned_agents
from chat.models import (
    OPEN_CONVERSATION_STATUSES,
    AgentPresence,
    ChatFile,
    ChatMessage,
    Conversation,
    ConversationStatus,
    Door,
    PresenceStatus,
)
from desk.selectors import desk_clock

# How many chats an agent answers at once before their button shows "busy".
DEFAULT_AGENT_CAPACITY = 3
# A socket that resumes gets at most this many missed messages per frame batch.
RESUME_LIMIT = 500


def is_chat_agent(user: User) -> bool:
    """Agents and seniors answer chats; managers and admins only read them."""
    return user.is_authenticated and user.role in (Role.AGENT, Role.SENIOR)


def conversation_for_user(*, conversation_id: int, user: User) -> Conversation | None:
    """The conversation if `user` may see it: its own customer, or staff; None otherwise (the
    caller answers 404, or closes the socket)."""
    if not user.is_authenticated:
        return None
    conversations = Conversation.objects.select_related("company", "customer", "agent", "ticket")
    if user.role in STAFF_ROLES:
        return conversations.filter(pk=conversation_id).first()
    if user.role == Role.CUSTOMER and user.company_id is not None:
        # Their own chats, and only while they belong to the company the chat was with.
        return conversations.filter(
            pk=conversation_id, customer=user, company_id=user.company_id
        ).first()
    return None


def conversation_still_open_to(
    *, conversation: Conversation, user_id: int, as_customer: bool
) -> bool:
    """Whether the account is still where it was when it opened the conversation: active, and
    its customer within the company the chat is with, or on the desk's staff. One query, for
    every frame a socket receives."""
    if as_customer:
        return Conversation.objects.filter(
            pk=conversation.pk,
            customer_id=user_id,
            customer__is_active=True,
            customer__company_id=conversation.company_id,
        ).exists()
    return (
        User.objects.filter(pk=user_id, is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(agent_profile__isnull=False)
            | Q(groups__name__in=(MANAGERS_GROUP, ADMINISTRATORS_GROUP))
        )
        .exists()
    )


def _author_name(message: ChatMessage) -> str | None:
    return None if message.author is None else str(message.author)


def message_payload(
    message: ChatMessage, *, files: Iterable[ChatFile] | None = None
) -> dict[str, Any]:
    """A message as its sockets receive it, with `files` (or its prefetched files)."""
    return {
        "id": message.pk,
        "side": message.side,
        "author": _author_name(message),
        "body_html": message.body_html,
        "created_at": message.created_at.isoformat(),
        "client_id": str(message.client_id) if message.client_id else None,
        "files": [
            {
                "name": chat_file.original_name,
                "url": reverse("chat:file", args=[message.conversation_id, chat_file.pk]),
                "size": chat_file.size,
                "content_type": chat_file.content_type,
            }
            for chat_file in (message.files.all() if files is None else files)
        ],
    }


def conversation_messages(
    *, conversation_id: int, after: int = 0, limit: int = RESUME_LIMIT
) -> QuerySet[ChatMessage]:
    return (
        ChatMessage.objects.filter(conversation_id=conversation_id, pk__gt=after)
        .select_related("author")
        .prefetch_related("files")
        .order_by("pk")[:limit]
    )


def conversation_message_payloads(
    *, conversation_id: int, after: int = 0, limit: int = RESUME_LIMIT
) -> list[dict[str, Any]]:
    """The messages after id `after`, oldest first: what a reconnecting socket missed."""
    return [
        message_payload(message)
        for message in conversation_messages(
            conversation_id=conversation_id, after=after, limit=limit
        )
    ]


def conversation_status_payload(*, conversation_id: int) -> dict[str, Any]:
    conversation = Conversation.objects.select_related("agent").get(pk=conversation_id)
    return status_payload(conversation)


def status_payload(conversation: Conversation) -> dict[str, Any]:
    return {
        "type": "status",
        "status": conversation.status,
        "agent": str(conversation.agent) if conversation.agent_id else None,
        "ticket": conversation.ticket_id,
        "customer_read_up_to": conversation.customer_read_up_to,
        "staff_read_up_to": conversation.staff_read_up_to,
    }


def agent_capacity() -> int:
    return int(getattr(settings, "CHAT_AGENT_CAPACITY", DEFAULT_AGENT_CAPACITY))


def _current_contacts(*, company_id: int, at: datetime.datetime) -> list[User]:
    """The company's dedicated agent then backup, both not away at `at`."""
    by_role = company_assigned_agents(company_id=company_id)
    ordered = [by_role.get(AssignmentRole.DEDICATED), by_role.get(AssignmentRole.BACKUP)]
    return [agent for agent in ordered if agent is not None and not agent.agent_profile.is_away(at)]


class Availability(enum.Enum):
    ONLINE = "online"
    BUSY = "busy"
    OFFLINE = "offline"


def _availability(agents: list[User], at: datetime.datetime) -> dict[int, Availability]:
    """Each agent's chat availability: at a staff page and under capacity, at it but full or
    busy, or not there. Two queries for any number of agents."""
    ids = [agent.pk for agent in agents]
    presences = {p.agent_id: p for p in AgentPresence.objects.filter(agent_id__in=ids)}
    active = dict(
        Conversation.objects.filter(agent_id__in=ids, status=ConversationStatus.ACTIVE)
        .values("agent_id")
        .annotate(count=Count("pk"))
        .values_list("agent_id", "count")
    )
    result: dict[int, Availability] = {}
    for agent_id in ids:
        presence = presences.get(agent_id)
        if presence is None or not presence.is_present(at):
            result[agent_id] = Availability.OFFLINE
        elif presence.status == PresenceStatus.BUSY or active.get(agent_id, 0) >= agent_capacity():
            result[agent_id] = Availability.BUSY
        else:
            result[agent_id] = Availability.ONLINE
    return result


def chat_contacts(*, company: Any, at: datetime.datetime) -> tuple[User | None, User | None]:
    """Whom a VIP chat alerts first (the dedicated agent, or the backup when only the backup is
    online), and whom 2 minutes later (the other one)."""
    contacts = _current_contacts(company_id=company.pk, at=at)
    if not contacts:
        return None, None
    availability = _availability(contacts, at)
    online = [agent for agent in contacts if availability[agent.pk] is Availability.ONLINE]
    first = online[0] if online else contacts[0]
    others = [agent for agent in contacts if agent.pk != first.pk]
    return first, others[0] if others else None


@dataclass(frozen=True)
class ChatButton:
    """The VIP customer's dedicated button at a moment."""

    state: Availability
    agent: User | None  # whom the button connects to (online or busy), or the dedicated agent
    next_opening: datetime.datetime | None  # when the desk is closed
    open_conversation: Conversation | None  # a dedicated chat already going on


def chat_button(*, customer: User, at: datetime.datetime) -> ChatButton | None:
    """The dedicated button's state; None for a customer whose company has no dedicated agent
    (the caller decides that with the add-on, so this reads only the assignments)."""
    if customer.company_id is None:
        return None
    open_conversation = (
        Conversation.objects.filter(
            customer=customer, door=Door.DEDICATED, status__in=OPEN_CONVERSATION_STATUSES
        )
        .select_related("agent")
        .first()
    )
    contacts = _current_contacts(company_id=customer.company_id, at=at)
    clock = desk_clock()
    if not clock.is_open(at):
        return ChatButton(
            Availability.OFFLINE,
            contacts[0] if contacts else None,
            clock.next_opening(at),
            open_conversation,
        )
    availability = _availability(contacts, at)
    for wanted in (Availability.ONLINE, Availability.BUSY):
        for agent in contacts:
            if availability[agent.pk] is wanted:
                return ChatButton(wanted, agent, None, open_conversation)
    return ChatButton(
        Availability.OFFLINE, contacts[0] if contacts else None, None, open_conversation
    )


def customer_open_conversation(*, customer: User, door: Door) -> Conversation | None:
    return (
        Conversation.objects.filter(
            customer=customer, door=door, status__in=OPEN_CONVERSATION_STATUSES
        )
        .select_related("agent")
        .first()
    )


@dataclass(frozen=True)
class Inbox:
    waiting: list[Conversation]  # VIP first, then the longest waiting
    mine: list[Conversation]
    others: list[Conversation]  # taken by colleagues


INBOX_LIMIT = 200


def chat_inbox(*, agent: User) -> Inbox:
    """The open chats in the inbox's order; two queries (the first customer line rides along)."""
    open_chats = (
        Conversation.objects.filter(status__in=OPEN_CONVERSATION_STATUSES)
        .select_related("company", "customer", "agent", "requested_agent")
        .order_by("status", "-is_vip", "created_at")[:INBOX_LIMIT]
    )
    waiting: list[Conversation] = []
    mine: list[Conversation] = []
    others: list[Conversation] = []
    for conversation in open_chats:
        if conversation.status == ConversationStatus.WAITING:
            waiting.append(conversation)
        elif conversation.agent_id == agent.pk:
            mine.append(conversation)
        else:
            others.append(conversation)
    return Inbox(waiting=waiting, mine=mine, others=others)


def chats_waiting_count() -> int:
    return Conversation.objects.filter(status=ConversationStatus.WAITING).count()


def agent_presence(*, agent: User) -> AgentPresence | None:
    return AgentPresence.objects.filter(agent=agent).first()


def first_customer_lines(conversations: list[Conversation]) -> dict[int, str]:
    """The first thing each customer wrote, for the inbox's preview; one query."""
    ids = [conversation.pk for conversation in conversations]
    if not ids:
        return {}
    rows = (
        ChatMessage.objects.filter(conversation_id__in=ids, side="customer")
        .exclude(body="")
        .order_by("conversation_id", "pk")
        .distinct("conversation_id")
        .values_list("conversation_id", "body")
        if _supports_distinct_on()
        else ChatMessage.objects.filter(conversation_id__in=ids, side="customer")
        .exclude(body="")
        .order_by("-pk")
        .values_list("conversation_id", "body")
    )
    return {conversation_id: body[:140] for conversation_id, body in rows}


def _supports_distinct_on() -> bool:
    return bool(connection.features.can_distinct_on_fields)
