"""Telling open websockets what changed, once the change is committed.

Every message and status is stored first; a broadcast that fails (the channel layer is down)
loses nothing, because a client that reconnects asks for everything after its last id.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Every staff page listens here: the inbox changed (a chat waits, was taken or closed).
STAFF_GROUP = "chat.staff"


def conversation_group(conversation_id: int) -> str:
    return f"chat.conversation.{conversation_id}"


def agent_group(agent_id: int) -> str:
    """One agent's own alerts: a VIP chat waiting for them."""
    return f"chat.agent.{agent_id}"


def send_after_commit(group: str, payload: dict[str, Any]) -> None:
    """Have every socket in `group` receive `payload` as JSON once the transaction commits."""
    transaction.on_commit(lambda: send_now(group, payload))


def send_now(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "chat.event", "payload": payload})
    except Exception:  # the layer (Redis) is down: the clients catch up when they reconnect
        logger.warning("chat: could not broadcast to %s", group, exc_info=True)
