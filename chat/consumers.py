"""The chat's websockets: one per open conversation page, one per staff page.

Every frame a client sends is checked again (the user may still see the conversation, and may
write in it) and goes through the same services as the pages; what it changes is stored before
it is broadcast, and a socket that (re)connects with `?after=<last id>` first receives every
message it has not seen, so nothing is lost and, with the client's ids, nothing doubles.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import STAFF_ROLES
from chat import broadcast, services
from chat.models import Conversation, Side
from chat.ratelimit import chat_rate_limited
from chat.selectors import (
    conversation_for_user,
    conversation_message_payloads,
    conversation_still_open_to,
    is_chat_agent,
    status_payload,
)

# Close codes (4000-4999 are the application's): the page shows why and does not retry.
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _after(scope: dict[str, Any]) -> int:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    try:
        return max(0, int(query.get("after", ["0"])[0]))
    except ValueError:
        return 0


class _JsonConsumer(AsyncJsonWebsocketConsumer):
    """A chat socket: JSON frames (one it cannot read gets an error instead of killing it), the
    layer's broadcasts passed on as they are, and an agent's pings as their presence."""

    user: User

    async def chat_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])

    def _ping(self) -> None:
        if is_chat_agent(self.user):
            services.presence_touch(agent=self.user)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if content is None:
            await self.send_json({"type": "error", "code": "invalid", "message": "JSON text"})
            return
        await self.receive_json(content, **kwargs)


class ConversationConsumer(_JsonConsumer):
    """A customer's or an agent's live view of one conversation."""

    user: User
    conversation_id: int
    conversation: Conversation  # as it was when the socket opened
    side: str

    async def connect(self) -> None:
        self.user = self.scope["user"]  # type: ignore[assignment]  # AuthMiddlewareStack's
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        opening = await database_sync_to_async(self._opening)(_after(dict(self.scope)))
        if opening is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Join before reading the backlog: a message stored in between arrives twice at worst,
        # and the client keeps one per id.
        await self.channel_layer.group_add(
            broadcast.conversation_group(self.conversation_id), self.channel_name
        )
        await self.accept()
        status, backlog = opening
        await self.send_json(status)
        for message in backlog:
            await self.send_json({"type": "message", "message": message})
        await self.send_json({"type": "ready"})

    def _opening(self, after: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        conversation = conversation_for_user(conversation_id=self.conversation_id, user=self.user)
        if conversation is None:
            return None
        self.conversation = conversation
        self.side = Side.CUSTOMER if conversation.customer_id == self.user.pk else Side.STAFF
        return status_payload(conversation), conversation_message_payloads(
            conversation_id=self.conversation_id, after=after
        )

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "side"):
            await self.channel_layer.group_discard(
                broadcast.conversation_group(self.conversation_id), self.channel_name
            )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "invalid", "message": "JSON object"})
            return
        kind = content.get("type")
        if kind == "typing":
            await self._typing()
            return
        if kind == "ping":
            await database_sync_to_async(self._ping)()
            await self.send_json({"type": "pong"})
            return
        if kind not in ("message", "read"):
            await self.send_json({"type": "error", "code": "invalid", "message": "unknown type"})
            return
        # On PostgreSQL each frame's database work runs in a thread of the pool, so one message's
        # waits overlap another's instead of queueing behind it. SQLite (`make run`) has one
        # writer and refuses a reader's upgrade while another waits: its frames stay in one
        # thread, as Django's own views do.
        one_thread = connections[DEFAULT_DB_ALIAS].vendor == "sqlite"
        reply = await database_sync_to_async(self._handle_in_language, thread_sensitive=one_thread)(
            kind, content
        )
        if reply is None:
            await self.close(code=CLOSE_NOT_FOUND)
        elif reply:
            await self.send_json(reply)

    def _handle_in_language(self, kind: str, content: dict[str, Any]) -> dict[str, Any] | None:
        # A socket has no request for LocaleMiddleware: errors speak the user's saved language.
        with translation.override(self.user.preferred_language):
            return self._handle(kind, content)

    def _handle(self, kind: str, content: dict[str, Any]) -> dict[str, Any] | None:
        """Check the user may still see the conversation, then act; None refuses the socket,
        an empty dict answers nothing."""
        # The account as it is now, not as it was when the socket opened: deactivated, moved
        # to another company or out of the desk, it may no longer be in this conversation.
        conversation = self.conversation
        if not conversation_still_open_to(
            conversation=conversation, user_id=self.user.pk, as_customer=self.side == Side.CUSTOMER
        ):
            return None
        if kind == "read":
            try:
                up_to = int(content.get("up_to", 0))
            except (TypeError, ValueError):
                return {"type": "error", "code": "invalid", "message": "up_to"}
            # A manager reading along is no reader of either side: no receipt.
            with contextlib.suppress(ValidationError):
                services.conversation_read(conversation=conversation, reader=self.user, up_to=up_to)
            return {}
        client_id = _uuid(content.get("client_id"))
        if chat_rate_limited(user_id=self.user.pk, action="message"):
            return {
                "type": "error",
                "code": "rate_limited",
                "client_id": str(client_id) if client_id else None,
                "message": _("Too many messages: wait a few seconds."),
            }
        body = content.get("body")
        try:
            message = services.chat_message_post(
                conversation=conversation,
                author=self.user,
                body=body if isinstance(body, str) else "",
                client_id=client_id,
            )
        except ValidationError as error:
            return {
                "type": "error",
                "code": "invalid",
                "client_id": str(client_id) if client_id else None,
                "message": _error_text(error),
            }
        return {"type": "ack", "client_id": str(client_id) if client_id else None, "id": message.pk}

    async def _typing(self) -> None:
        limited = await database_sync_to_async(chat_rate_limited)(
            user_id=self.user.pk, action="typing"
        )
        if limited:
            return
        await self.channel_layer.group_send(
            broadcast.conversation_group(self.conversation_id),
            {
                "type": "chat.event",
                "payload": {"type": "typing", "side": self.side, "name": str(self.user)},
            },
        )


class StaffConsumer(_JsonConsumer):
    """Every staff page: the inbox's changes, the agent's own alerts, and their presence."""

    user: User

    async def connect(self) -> None:
        self.user = self.scope["user"]  # type: ignore[assignment]  # AuthMiddlewareStack's
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        role = await database_sync_to_async(lambda: self.user.role)()
        if role not in STAFF_ROLES:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.groups_joined = [broadcast.STAFF_GROUP, broadcast.agent_group(self.user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await database_sync_to_async(self._ping)()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await database_sync_to_async(self._ping)()
            await self.send_json({"type": "pong"})
