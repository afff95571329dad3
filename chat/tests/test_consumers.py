"""The chat's websockets through the real ASGI application on Redis."""

from __future__ import annotations

import datetime
import uuid

import pytest
from asgiref.sync import async_to_sync

from chat.models import ChatMessage, Door
from chat.tests.factories import chat_of, chat_world
from chat.tests.sockets import receive_until, session_headers, socket

pytestmark = pytest.mark.django_db(transaction=True)

# A Tuesday, 10:00 in Sofia: the desk is open.
TUESDAY = datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC)


def test_a_message_from_the_customer_reaches_the_agent_live():
    world = chat_world(at=TUESDAY)
    chat = chat_of(world.ivan, door=Door.DEDICATED)
    path = f"/ws/chat/{chat.pk}/"
    ivan_headers, maria_headers = session_headers(world.ivan), session_headers(world.maria)

    async def scenario() -> None:
        customer = socket(path, None, headers=ivan_headers)
        agent = socket(path, None, headers=maria_headers)
        assert (await customer.connect())[0]
        assert (await agent.connect())[0]
        first = await receive_until(agent, "message")
        assert "export is stuck" in first["message"]["body_html"]
        await receive_until(agent, "ready")
        await receive_until(customer, "ready")
        client_id = str(uuid.uuid4())
        await customer.send_json_to(
            {"type": "message", "body": "**Still** down", "client_id": client_id}
        )
        ack = await receive_until(customer, "ack")
        live = await receive_until(agent, "message")
        assert live["message"]["id"] == ack["id"]
        assert live["message"]["client_id"] == client_id
        assert "<strong>Still</strong>" in live["message"]["body_html"]
        await customer.disconnect()
        await agent.disconnect()

    async_to_sync(scenario)()
    assert ChatMessage.objects.filter(conversation=chat).count() == 2
