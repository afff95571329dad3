"""The chat's websockets through the real ASGI application (session cookie, Origin check,
routing) on the Redis channel layer."""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from channels.testing import WebsocketCommunicator

from chat import services
from chat.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND
from chat.models import AgentPresence, Door
from chat.tests.factories import ChatWorld, chat_of, chat_world
from chat.tests.sockets import receive_until, run, session_headers, socket

pytestmark = pytest.mark.django_db(transaction=True)

# A Tuesday morning in Berlin: the desk is open. The sockets run on the real clock, so the
# services are given their moment explicitly where it matters.
TUESDAY = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def world() -> ChatWorld:
    return chat_world(at=TUESDAY - datetime.timedelta(days=1))


async def opened(communicator: WebsocketCommunicator) -> list[dict]:
    """Connect and read up to `ready`: the status frame and the backlog."""
    connected, _ = await communicator.connect()
    assert connected
    frames: list[dict] = []
    while True:
        frame = await communicator.receive_json_from(timeout=3)
        if frame["type"] == "ready":
            return frames
        frames.append(frame)


def messages_in(frames: list[dict]) -> list[str]:
    return [frame["message"]["body_html"] for frame in frames if frame["type"] == "message"]


def test_messages_go_both_ways_live_stored_before_they_are_sent(world):
    chat = chat_of(world.ivan, door=Door.DEDICATED)
    path = f"/ws/chat/{chat.pk}/"
    ivan, maria = session_headers(world.ivan), session_headers(world.maria)

    async def scenario() -> None:
        customer = socket(path, None, headers=ivan)
        agent = socket(path, None, headers=maria)
        opening = await opened(customer)
        assert opening[0]["type"] == "status"
        assert opening[0]["status"] == "waiting"
        assert "export is stuck" in messages_in(opening)[0]
        await opened(agent)

        client_id = str(uuid.uuid4())
        await customer.send_json_to(
            {"type": "message", "body": "**Still** down", "client_id": client_id}
        )
        ack = await receive_until(customer, "ack")
        live = await receive_until(agent, "message")
        assert live["message"]["id"] == ack["id"]
        assert live["message"]["client_id"] == client_id
        assert live["message"]["side"] == "customer"
        assert "<strong>Still</strong>" in live["message"]["body_html"]

        await agent.send_json_to(
            {"type": "message", "body": "Looking now", "client_id": str(uuid.uuid4())}
        )
        # The agent's first message takes the chat: both sides hear of it.
        status = await receive_until(customer, "status")
        assert status["status"] == "active"
        assert status["agent"] == "Maria Ivanova"
        reply = await receive_until(customer, "message")
        while reply["message"]["side"] == "system":
            reply = await receive_until(customer, "message")
        assert reply["message"]["author"] == "Maria Ivanova"
        await customer.disconnect()
        await agent.disconnect()

    run(scenario)
    assert list(chat.messages.values_list("side", flat=True)) == [
        "customer",
        "customer",
        "system",
        "staff",
    ]


def test_a_reconnecting_client_gets_what_it_missed_once_and_a_resend_is_not_stored_twice(world):
    chat = chat_of(world.ivan)
    path = f"/ws/chat/{chat.pk}/"
    ivan = session_headers(world.ivan)
    first_id = chat.messages.get().pk

    async def first_connection() -> None:
        customer = socket(path, None, headers=ivan)
        await opened(customer)
        await customer.disconnect()

    run(first_connection)
    # While Ivan is away, Maria answers twice.
    services.chat_message_post(conversation=chat, author=world.maria, body="One")
    services.chat_message_post(conversation=chat, author=world.maria, body="Two")
    client_id = str(uuid.uuid4())

    async def reconnection() -> None:
        customer = socket(f"{path}?after={first_id}", None, headers=ivan)
        missed = messages_in(await opened(customer))
        assert [body for body in missed if "One" in body or "Two" in body] == [
            "<p>One</p>\n",
            "<p>Two</p>\n",
        ]
        assert not any("export is stuck" in body for body in missed)
        # A message sent just before the drop is sent again after it: one row, the same id.
        await customer.send_json_to({"type": "message", "body": "Thanks", "client_id": client_id})
        first_ack = await receive_until(customer, "ack")
        await customer.send_json_to({"type": "message", "body": "Thanks", "client_id": client_id})
        second_ack = await receive_until(customer, "ack")
        assert first_ack["id"] == second_ack["id"]
        await customer.disconnect()

    run(reconnection)
    assert chat.messages.filter(body="Thanks").count() == 1


@pytest.mark.parametrize("who", ["anna", "bob", "anonymous"])
def test_a_foreign_conversation_is_refused_and_closed(world, who):
    chat = chat_of(world.ivan)
    user = None if who == "anonymous" else getattr(world, who)
    headers = session_headers(user)

    async def scenario() -> None:
        stranger = socket(f"/ws/chat/{chat.pk}/", None, headers=headers)
        connected, code = await stranger.connect()
        assert not connected
        assert code == CLOSE_NOT_FOUND

    run(scenario)


def test_a_page_of_another_site_cannot_open_a_socket_as_the_user(world):
    chat = chat_of(world.ivan)
    headers = session_headers(world.ivan, origin=b"https://evil.example")

    async def scenario() -> None:
        connected, _ = await socket(f"/ws/chat/{chat.pk}/", None, headers=headers).connect()
        assert not connected

    run(scenario)


def test_a_customer_deactivated_while_connected_is_cut_off_at_the_next_message(world):
    chat = chat_of(world.ivan)
    ivan = session_headers(world.ivan)

    async def scenario() -> None:
        customer = socket(f"/ws/chat/{chat.pk}/", None, headers=ivan)
        await opened(customer)
        world.ivan.is_active = False
        await database_save(world.ivan)
        await customer.send_json_to({"type": "message", "body": "Still here?"})
        closed = await customer.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}

    run(scenario)
    assert not chat.messages.filter(body="Still here?").exists()


async def database_save(user) -> None:
    from channels.db import database_sync_to_async

    await database_sync_to_async(user.save)()


def test_a_client_sending_too_fast_is_told_and_its_extra_messages_are_not_stored(world, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 3
    chat = chat_of(world.ivan)
    ivan = session_headers(world.ivan)

    async def scenario() -> None:
        customer = socket(f"/ws/chat/{chat.pk}/", None, headers=ivan)
        await opened(customer)
        replies = []
        for number in range(5):
            await customer.send_json_to(
                {"type": "message", "body": f"Spam {number}", "client_id": str(uuid.uuid4())}
            )
            frame = await customer.receive_json_from(timeout=3)
            while frame["type"] not in ("ack", "error"):
                frame = await customer.receive_json_from(timeout=3)
            replies.append(frame["type"] if frame["type"] == "ack" else frame["code"])
        assert replies == ["ack", "ack", "ack", "rate_limited", "rate_limited"]
        await customer.disconnect()

    run(scenario)
    assert chat.messages.filter(body__startswith="Spam").count() == 3


def test_typing_and_read_receipts_reach_the_other_side(world):
    chat = chat_of(world.ivan)
    reply = services.chat_message_post(conversation=chat, author=world.maria, body="Hi")
    path = f"/ws/chat/{chat.pk}/"
    ivan, maria = session_headers(world.ivan), session_headers(world.maria)

    async def scenario() -> None:
        customer = socket(path, None, headers=ivan)
        agent = socket(path, None, headers=maria)
        await opened(customer)
        await opened(agent)
        await customer.send_json_to({"type": "typing"})
        typing = await receive_until(agent, "typing")
        assert typing["side"] == "customer"
        assert typing["name"] == "Ivan Petrov"
        await customer.send_json_to({"type": "read", "up_to": reply.pk})
        read = await receive_until(agent, "read")
        assert read == {"type": "read", "side": "customer", "up_to": reply.pk}
        await customer.disconnect()
        await agent.disconnect()

    run(scenario)
    chat.refresh_from_db()
    assert chat.customer_read_up_to == reply.pk


def test_bad_frames_get_an_error_not_a_crash(world):
    chat = chat_of(world.ivan)
    ivan = session_headers(world.ivan)

    async def scenario() -> None:
        customer = socket(f"/ws/chat/{chat.pk}/", None, headers=ivan)
        await opened(customer)
        for frame in (["a list"], {"type": "explode"}, {"type": "read", "up_to": "x"}):
            await customer.send_json_to(frame)
            error = await receive_until(customer, "error")
            assert error["code"] == "invalid"
        await customer.send_json_to({"type": "message", "body": "   "})
        error = await receive_until(customer, "error")
        assert error["message"] == "Напишете съобщение."  # "Write a message." in Ivan's Bulgarian
        await customer.send_to(text_data="not json")
        assert (await receive_until(customer, "error"))["code"] == "invalid"
        # The socket is still there.
        await customer.send_json_to({"type": "ping"})
        assert (await receive_until(customer, "pong"))["type"] == "pong"
        await customer.disconnect()

    run(scenario)


def test_the_staff_socket_alerts_the_dedicated_agent_and_keeps_their_presence(world):
    maria = session_headers(world.maria)

    async def connect_staff() -> WebsocketCommunicator:
        staff = socket("/ws/staff/", None, headers=maria)
        connected, _ = await staff.connect()
        assert connected
        return staff

    async def scenario() -> None:
        staff = await connect_staff()
        from channels.db import database_sync_to_async

        chat = await database_sync_to_async(chat_of)(world.ivan, door=Door.DEDICATED)
        alert = await receive_until(staff, "alert")
        assert alert["conversation"] == chat.pk
        assert alert["company"] == "Acme"
        assert "export is stuck" in alert["preview"]
        await staff.disconnect()

    run(scenario)
    assert AgentPresence.objects.filter(agent=world.maria).exists()


def test_customers_cannot_open_the_staff_socket(world):
    ivan = session_headers(world.ivan)

    async def scenario() -> None:
        connected, code = await socket("/ws/staff/", None, headers=ivan).connect()
        assert not connected
        assert code == CLOSE_FORBIDDEN

    run(scenario)


def test_a_manager_reading_along_sends_no_receipt_and_keeps_the_socket(world):
    from django.contrib.auth.models import Group

    from accounts.tests.factories import UserFactory

    manager = UserFactory(email="boss@support.example")
    manager.groups.add(Group.objects.get(name="Managers"))
    chat = chat_of(world.ivan)
    headers = session_headers(manager)

    async def scenario() -> None:
        reader = socket(f"/ws/chat/{chat.pk}/", None, headers=headers)
        await opened(reader)
        await reader.send_json_to({"type": "read", "up_to": 10**6})
        await reader.send_json_to({"type": "message", "body": "Hello"})
        refused = await receive_until(reader, "error")
        assert refused["message"] == "Only the customer and the desk's agents write in this chat."
        await reader.disconnect()

    run(scenario)
    chat.refresh_from_db()
    assert chat.staff_read_up_to == 0


def test_errors_on_the_socket_speak_the_users_language(world, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 1
    chat = chat_of(world.ivan)  # Ivan reads Bulgarian
    headers = session_headers(world.ivan)

    async def scenario() -> None:
        customer = socket(f"/ws/chat/{chat.pk}/", None, headers=headers)
        await opened(customer)
        await customer.send_json_to({"type": "message", "body": "Hello"})
        await customer.send_json_to({"type": "message", "body": "Hello again"})
        refused = await receive_until(customer, "error")
        assert refused["code"] == "rate_limited"
        assert refused["message"] != "Too many messages: wait a few seconds."
        await customer.disconnect()

    run(scenario)


@pytest.mark.parametrize("change", ["moved to Globex", "no longer an agent"])
def test_an_account_that_left_its_place_is_cut_off_at_the_next_frame(world, change):
    chat = chat_of(world.ivan)
    member = world.ivan if change == "moved to Globex" else world.olga
    headers = session_headers(member)

    def leave() -> None:
        if change == "moved to Globex":
            world.ivan.company = world.globex
            world.ivan.save()
        else:
            world.olga.agent_profile.delete()

    async def scenario() -> None:
        from channels.db import database_sync_to_async

        connection = socket(f"/ws/chat/{chat.pk}/", None, headers=headers)
        await opened(connection)
        await database_sync_to_async(leave)()
        await connection.send_json_to({"type": "message", "body": "Still here?"})
        closed = await connection.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}

    run(scenario)
    assert not chat.messages.filter(body="Still here?").exists()


def test_a_quiet_socket_stays_open_and_still_receives(world):
    """redis-py 8 gives up reading after 5 s unless told otherwise, and channels-redis waits
    5 s for each message: with the library defaults a socket died after 5 quiet seconds."""
    chat = chat_of(world.ivan)
    ivan = session_headers(world.ivan)

    async def scenario() -> None:
        import asyncio

        from channels.db import database_sync_to_async

        customer = socket(f"/ws/chat/{chat.pk}/", None, headers=ivan)
        await opened(customer)
        await asyncio.sleep(7)
        assert await customer.receive_nothing(timeout=0.1)
        await database_sync_to_async(services.chat_message_post)(
            conversation=chat, author=world.maria, body="Still here"
        )
        late = await receive_until(customer, "message")
        while late["message"]["side"] == "system":  # Maria's first line takes the chat
            late = await receive_until(customer, "message")
        assert "Still here" in late["message"]["body_html"]
        await customer.disconnect()

    run(scenario)
