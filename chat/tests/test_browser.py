"""The chat in Chromium, customer and agent each in their own browser, against the ASGI
application on uvicorn (websockets included): the dedicated button in hours, a live conversation
with typing, a file, read receipts, a dropped connection and a ticket; and the same button out
of hours, where a message left becomes a ticket.

Screenshots go to test-artifacts/chat-NN-*.png (not committed).
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from chat.models import AgentPresence, ChatMessage, Conversation, ConversationStatus
from chat.tests.factories import ChatWorld, chat_of, chat_world
from tickets.models import Channel, Ticket
from tickets.tests.test_attachments import png_bytes
from vipsupport.testing import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=BERLIN)


def eventually(check: Callable[[], Any], *, tries: int = 200) -> Any:
    """Poll the database until `check` gives something true (by count: the clock travels)."""
    for _ in range(tries):
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def world_at(moment: datetime.datetime) -> ChatWorld:
    world = chat_world(at=moment)
    User.objects.filter(pk=world.ivan.pk).update(preferred_language="en")
    return world


def start_clock(page: Any) -> None:
    """The page's clock from the server's (travelled) one, so waiting times read alike."""
    from playwright.sync_api import Error

    try:
        page.context.clock.install(time=datetime.datetime.now(datetime.UTC))
    except Error:  # already installed by a session-wide TEST_CLOCK
        return


def transcript_ids(page: Any) -> list[int]:
    return [
        int(value)
        for value in page.eval_on_selector_all(
            "#chat-transcript li[data-id]", "items => items.map(item => item.dataset.id)"
        )
    ]


def test_a_vip_chats_live_with_the_dedicated_agent(asgi_server, page, new_page):
    base = asgi_server
    with time_machine.travel(TUESDAY, tick=True):
        world = world_at(TUESDAY)
        ivan, maria = world.ivan, world.maria

        # 1. Maria has the chat inbox open: her staff socket says she is at her desk.
        agent = new_page()
        start_clock(agent)
        log_in(agent, base, maria.email)
        agent.goto(f"{base}/queue/chat/")
        eventually(lambda: AgentPresence.objects.filter(agent=maria).exists())
        assert agent.locator("[data-testid=chats-waiting]").inner_text().count("No chat is") == 1
        assert agent.locator("[data-chat-waiting]").is_hidden()
        screenshot(agent, "chat-01-agent-inbox-empty")

        # 2. Ivan's home shows the dedicated button online; he starts the chat.
        start_clock(page)
        log_in(page, base, ivan.email)
        page.goto(f"{base}/")
        button = page.locator("[data-testid=dedicated-chat-button]")
        assert button.get_attribute("data-state") == "online"
        assert "Maria is online now." in button.inner_text()
        screenshot(page, "chat-02-home-button-online")
        button.locator("[data-testid=chat-dedicated]").click()
        page.wait_for_url(f"{base}/chat/dedicated/")
        assert page.locator("[data-testid=chat-launcher]").count() == 0
        page.fill("#id_body", "Our **VPN** drops every hour.")
        screenshot(page, "chat-03-dedicated-door")
        page.locator("[data-testid=chat-start] button[type=submit]").click()
        page.wait_for_url(re.compile(r"/chat/\d+/$"))
        chat = Conversation.objects.get(customer=ivan)
        assert page.url == f"{base}/chat/{chat.pk}/"
        page.locator("#chat-transcript li.mine strong", has_text="Ivan Petrov").wait_for()
        assert "Our VPN drops every hour." in page.locator("#chat-transcript").inner_text()

        # 3. It appears in Maria's inbox without a reload, with the nav count and an alert.
        row = agent.locator(f"[data-testid=chats-waiting] tr[data-chat-id='{chat.pk}']")
        row.wait_for()
        assert "VIP" in row.inner_text()
        assert "Our **VPN** drops every hour." in row.inner_text()
        assert agent.locator("[data-chat-waiting]").inner_text() == "1"
        toast = agent.locator("[data-testid=chat-alert]")
        toast.wait_for()
        assert "Ivan Petrov · Acme" in toast.inner_text()
        screenshot(agent, "chat-04-agent-inbox-live")

        # 4. Maria takes it; Ivan sees her join live.
        agent.locator(f"[data-testid=take-{chat.pk}]").click()
        agent.wait_for_url(f"{base}/queue/chat/{chat.pk}/")
        page.locator("#chat-status-text", has_text="With Maria Ivanova").wait_for()
        page.locator(
            "#chat-transcript li.system", has_text="Maria Ivanova joined the chat."
        ).wait_for()
        assert agent.locator("[data-testid=chat-take]").count() == 0

        # 5. Typing shows on the other side; messages go both ways live.
        agent.locator("#chat-body").press_sequentially("Hello Ivan, looking", delay=20)
        page.locator("#chat-typing", has_text="Maria Ivanova is typing…").wait_for()
        agent.locator("#chat-body").press_sequentially(" at it now.")
        agent.locator("#chat-body").press("Enter")
        page.locator(
            "#chat-transcript li.staff", has_text="Hello Ivan, looking at it now."
        ).wait_for()
        agent.locator("#chat-transcript li.mine", has_text="looking at it now.").wait_for()
        assert agent.locator("#chat-pending li").count() == 0
        assert page.locator("#chat-typing").is_hidden()

        page.fill("#chat-body", "It is the Sofia office.\nOnly on Wi-Fi.")
        page.locator("#chat-send").click()
        agent.locator("#chat-transcript li.customer", has_text="Only on Wi-Fi.").wait_for()
        assert page.locator("#chat-body").input_value() == ""

        # 6. A file goes from Ivan to Maria over HTTP and arrives on her socket.
        page.set_input_files(
            "#chat-files",
            files=[{"name": "vpn-error.png", "mimeType": "image/png", "buffer": png_bytes()}],
        )
        page.locator("#chat-send").click()
        link = agent.locator("#chat-transcript li.customer a", has_text="vpn-error.png")
        link.wait_for()
        download = agent.request.get(f"{base}{link.get_attribute('href')}")
        assert download.status == 200
        assert download.body() == png_bytes()

        # 7. Maria's open page has read Ivan's messages: "Seen" under his newest.
        newest_of_ivan = ChatMessage.objects.filter(conversation=chat, author=ivan).last()
        seen = page.locator(f"#chat-message-{newest_of_ivan.pk} .receipt")
        seen.wait_for()
        assert seen.inner_text() == "Seen"
        assert page.locator("#chat-transcript .receipt").count() == 1
        screenshot(page, "chat-05-customer-conversation")
        screenshot(agent, "chat-06-agent-conversation")

        # 8. Ivan's connection drops and stays down a while: what he writes meanwhile waits,
        # and what Maria writes meanwhile reaches him once, on the socket that resumes.
        network = {"down": True}
        resumed: list[str] = []

        def ivans_sockets(route: Any) -> None:
            if network["down"]:
                route.close(code=1011)
            else:
                resumed.append(route.url)
                route.connect_to_server()

        page.route_web_socket(re.compile(r"/ws/chat/"), ivans_sockets)
        page.evaluate("window.vipChatSocket.close()")
        page.locator("#chat-connection", has_text="reconnecting").wait_for()
        page.fill("#chat-body", "Written while offline")
        page.keyboard.press("Enter")
        pending = page.locator("#chat-pending li", has_text="Written while offline")
        assert "Sending…" in pending.inner_text()
        agent.fill("#chat-body", "Are you still there?")
        agent.keyboard.press("Enter")
        agent.locator("#chat-transcript li.mine", has_text="Are you still there?").wait_for()
        missed = ChatMessage.objects.get(body="Are you still there?")
        assert page.locator("#chat-transcript li", has_text="Are you still there?").count() == 0
        network["down"] = False
        late = page.locator("#chat-transcript li.staff", has_text="Are you still there?")
        late.wait_for(timeout=20_000)
        page.locator("#chat-transcript li.mine", has_text="Written while offline").wait_for()
        agent.locator("#chat-transcript li.customer", has_text="Written while offline").wait_for()
        assert page.locator("#chat-connection").is_hidden()
        assert page.locator("#chat-pending li").count() == 0
        assert len(resumed) == 1
        after = int(re.search(r"after=(\d+)", resumed[0]).group(1))
        assert after < missed.pk  # it came with the resumed socket's backlog
        assert ChatMessage.objects.filter(body="Written while offline").count() == 1
        stored = list(
            ChatMessage.objects.filter(conversation=chat)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        page.wait_for_timeout(500)  # any late duplicate would have landed by now
        assert transcript_ids(page) == stored
        assert late.count() == 1

        # 9. Maria turns the chat into a ticket: the link shows on both sides.
        agent.fill("#id_subject", "VPN drops every hour in Sofia")
        agent.select_option("#id_severity", "2")
        agent.locator("[data-testid=to-ticket] button[type=submit]").click()
        agent.locator(".messages li", has_text="opened from the chat").wait_for()
        ticket = Ticket.objects.get()
        assert (ticket.channel, ticket.assignee) == (Channel.CHAT, maria)
        assert agent.locator("[data-testid=chat-ticket]").get_attribute("href") == (
            f"/queue/tickets/{ticket.pk}/"
        )
        customer_link = page.locator("[data-testid=chat-ticket]")
        customer_link.wait_for()
        assert customer_link.inner_text() == f"Ticket #{ticket.pk}"
        page.locator(
            "#chat-transcript li.system", has_text=f"kept on ticket #{ticket.pk}"
        ).wait_for()
        screenshot(agent, "chat-07-agent-ticket-linked")
        screenshot(page, "chat-08-customer-ticket-linked")

        customer_link.click()
        page.wait_for_url(f"{base}/tickets/{ticket.pk}/")
        conversation = page.locator(".main").inner_text()
        for line in [
            "Our VPN drops every hour.",
            "Hello Ivan, looking at it now.",
            "vpn-error.png",
        ]:
            assert line in conversation, line
        screenshot(page, "chat-09-ticket-transcript")

        assert Conversation.objects.get().status == ConversationStatus.ACTIVE


def test_out_of_hours_the_button_takes_a_message_that_becomes_a_ticket(asgi_server, page):
    base = asgi_server
    with time_machine.travel(FRIDAY_EVENING, tick=True):
        world = world_at(FRIDAY_EVENING)
        start_clock(page)
        log_in(page, base, world.ivan.email)
        page.goto(f"{base}/")
        button = page.locator("[data-testid=dedicated-chat-button]")
        assert button.get_attribute("data-state") == "offline"
        # Monday 09:00 in Berlin is 10:00 in Sofia, Ivan's zone.
        assert "It opens Mon 16 Mar 10:00 (your time, Europe/Sofia)." in button.inner_text()
        screenshot(page, "chat-10-home-button-offline")

        button.locator("[data-testid=chat-dedicated]").click()
        page.wait_for_url(f"{base}/chat/dedicated/")
        assert "It opens again Monday 16 March, 10:00 (your time, Europe/Sofia)." in (
            page.locator("[data-testid=next-opening]").inner_text()
        )
        assert page.locator("[data-testid=site-chat-link]").get_attribute("href") == "/chat/"
        page.fill("#leave-body", "Please call me about the VPN on Monday.")
        screenshot(page, "chat-11-dedicated-offline")
        page.locator("[data-testid=leave-message] button[type=submit]").click()

        promise = page.locator("[data-testid=left-promise]")
        promise.wait_for()
        ticket = Ticket.objects.get()
        assert ticket.channel == Channel.CHAT
        assert ticket.assignee == world.maria
        assert promise.inner_text() == (
            "We will answer by Monday 16 March, 12:00 (your time, Europe/Sofia)."
        )
        screenshot(page, "chat-12-message-left")
        page.locator("[data-testid=left-ticket]").click()
        page.wait_for_url(f"{base}/tickets/{ticket.pk}/")
        assert "Please call me about the VPN on Monday." in page.locator(".main").inner_text()


def test_a_refused_message_or_file_keeps_what_was_typed(asgi_server, page, settings):
    base = asgi_server
    with time_machine.travel(TUESDAY, tick=True):
        world = world_at(TUESDAY)
        chat = chat_of(world.ivan)
        start_clock(page)
        log_in(page, base, world.ivan.email)
        page.goto(f"{base}/chat/{chat.pk}/")
        page.locator("#chat[data-live]").wait_for(state="attached")

        # One message per window: the second is refused by the socket and comes back.
        settings.CHAT_RATE_LIMIT_MESSAGES = 1
        page.fill("#chat-body", "One")
        page.keyboard.press("Enter")
        page.locator("#chat-transcript li.mine", has_text="One").wait_for()
        page.fill("#chat-body", "Two, too fast")
        page.keyboard.press("Enter")
        errors = page.locator("#chat-errors")
        errors.wait_for()
        assert errors.inner_text() == "Too many messages: wait a few seconds."
        assert page.locator("#chat-body").input_value() == "Two, too fast"
        assert page.locator("#chat-pending li").count() == 0

        # A file of a type the portal refuses: the page shows why, and keeps the text.
        page.set_input_files(
            "#chat-files",
            files=[{"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}],
        )
        page.locator("#chat-send").click()
        errors.filter(has_text="is not a type of file we accept").wait_for()
        assert "“setup.exe” is not a type of file we accept." in errors.inner_text()
        assert page.locator("#chat-body").input_value() == "Two, too fast"
        screenshot(page, "chat-13-refused")
        assert list(chat.messages.values_list("body", flat=True)) == [
            "Hello, our export is stuck.",
            "One",
        ]
