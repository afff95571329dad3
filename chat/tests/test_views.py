"""The chat's pages: the customers' doors in every state of the dedicated button, the two
conversation pages, the agents' inbox, the forms that act on a chat, and who may see what."""

from __future__ import annotations

import datetime
import html
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import MANAGERS_GROUP, User
from accounts.tests.factories import CustomerFactory, UserFactory
from chat import services
from chat.models import ChatMessage, Conversation, ConversationStatus, Door, PresenceStatus
from chat.tests.factories import ChatWorld, chat_of, chat_world
from tickets.models import Channel, Severity, Ticket
from tickets.tests.factories import make_ticket
from tickets.tests.test_attachments import png_bytes

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
SOFIA = ZoneInfo("Europe/Sofia")
# The desk is open (Tuesday 10:00 in Berlin) ...
TUESDAY = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
# ... and closed (Friday 18:30); it opens again on Monday 16 March at 09:00 Berlin time.
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=BERLIN)
MONDAY_OPENING = datetime.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def at_tuesday():
    with time_machine.travel(TUESDAY, tick=False):
        yield TUESDAY


@pytest.fixture
def world(at_tuesday) -> ChatWorld:
    world = chat_world(at=at_tuesday)
    # Ivan keeps his Sofia zone; English pages keep the assertions readable.
    User.objects.filter(pk=world.ivan.pk).update(preferred_language="en")
    return world


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return html.unescape(response.content.decode())


# --- the doors ------------------------------------------------------------------------------


class TestDoors:
    def test_every_customer_has_the_site_chat(self, world):
        response = client_of(world.bob).get("/chat/")

        assert response.status_code == 200
        page = text_of(response)
        assert 'data-testid="site-door"' in page
        assert 'action="/chat/start/site/"' in page
        # Bob's company has no dedicated agent: no word of one.
        assert 'data-testid="dedicated-hint"' not in page
        # The launcher is not shown on the chat's own pages.
        assert 'data-testid="chat-launcher"' not in page

    def test_a_vip_on_the_site_chat_is_pointed_to_the_dedicated_one(self, world):
        page = text_of(client_of(world.ivan).get("/chat/"))

        assert 'data-testid="dedicated-hint"' in page

    def test_online_the_dedicated_door_offers_a_chat_with_the_agent(self, world):
        services.presence_touch(agent=world.maria)

        response = client_of(world.ivan).get("/chat/dedicated/")

        assert response.status_code == 200
        page = text_of(response)
        assert 'data-state="online"' in page
        assert "Maria is online now." in page
        assert "Chat with Maria</button>" in page
        assert 'action="/chat/start/dedicated/"' in page
        assert 'data-testid="leave-message"' not in page

    def test_busy_the_customer_may_start_anyway_or_use_the_site_chat(self, world):
        services.presence_set_status(agent=world.maria, status=PresenceStatus.BUSY)

        page = text_of(client_of(world.ivan).get("/chat/dedicated/"))

        assert 'data-state="busy"' in page
        assert "Maria is busy with other customers right now." in page
        assert 'action="/chat/start/dedicated/"' in page
        assert 'data-testid="site-chat-link"' in page

    def test_an_agent_at_capacity_is_busy(self, world, settings):
        settings.CHAT_AGENT_CAPACITY = 1
        services.presence_touch(agent=world.maria)
        services.conversation_take(conversation=chat_of(world.anna), agent=world.maria)

        page = text_of(client_of(world.ivan).get("/chat/dedicated/"))

        assert 'data-state="busy"' in page

    def test_the_backup_answers_when_only_the_backup_is_there(self, world):
        services.presence_touch(agent=world.peter)

        page = text_of(client_of(world.ivan).get("/chat/dedicated/"))

        assert 'data-state="online"' in page
        assert "Chat with Peter</button>" in page

    def test_in_hours_with_nobody_at_their_desk_a_message_can_be_left(self, world):
        page = text_of(client_of(world.ivan).get("/chat/dedicated/"))

        assert 'data-state="offline"' in page
        assert "Maria is not at their desk right now." in page
        assert 'data-testid="leave-message"' in page
        assert 'data-testid="site-chat-link"' in page
        assert 'data-testid="next-opening"' not in page

    def test_out_of_hours_the_door_names_the_next_opening_in_the_customers_zone(self):
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            world = chat_world(at=FRIDAY_EVENING)
            User.objects.filter(pk=world.ivan.pk).update(preferred_language="en")
            services.presence_touch(agent=world.maria)  # at her desk, but the desk is closed

            page = text_of(client_of(world.ivan).get("/chat/dedicated/"))

        assert 'data-state="offline"' in page
        # Monday 09:00 in Berlin is 10:00 in Sofia.
        assert "It opens again Monday 16 March, 10:00 (your time, Europe/Sofia)." in page
        assert 'action="/chat/dedicated/leave-message/"' in page
        assert 'href="/chat/"' in page

    def test_the_home_page_shows_the_dedicated_button_refreshed_every_half_minute(self, world):
        services.presence_touch(agent=world.maria)

        page = text_of(client_of(world.ivan).get("/"))

        assert 'data-testid="dedicated-chat-button"' in page
        assert 'hx-get="/chat/dedicated/button/"' in page
        assert 'hx-trigger="every 30s"' in page
        assert "Chat with Maria</a>" in page
        assert 'data-testid="chat-launcher"' in page

    def test_the_button_alone_follows_the_agents_presence(self, world):
        client = client_of(world.ivan)
        assert 'data-state="offline"' in text_of(client.get("/chat/dedicated/button/"))

        services.presence_touch(agent=world.maria)
        response = client.get("/chat/dedicated/button/")

        assert response.status_code == 200
        assert 'data-state="online"' in text_of(response)
        assert "<html" not in text_of(response)

    def test_with_a_chat_open_the_button_continues_it(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED)

        page = text_of(client_of(world.ivan).get("/chat/dedicated/button/"))

        assert 'data-state="open"' in page
        assert f'href="/chat/{chat.pk}/"' in page

    def test_a_customer_without_the_addon_has_no_dedicated_pages(self, world):
        client = client_of(world.bob)

        assert client.get("/chat/dedicated/").status_code == 404
        assert client.get("/chat/dedicated/button/").status_code == 404
        assert client.post("/chat/dedicated/leave-message/", {"body": "Hi"}).status_code == 404
        assert client.post("/chat/start/dedicated/", {"body": "Hi"}).status_code == 404
        assert 'data-testid="dedicated-chat-button"' not in text_of(client.get("/"))


# --- starting, resuming, leaving a message --------------------------------------------------


class TestStart:
    def test_the_first_message_opens_the_chat_page(self, world):
        client = client_of(world.ivan)

        response = client.post("/chat/start/site/", {"body": "Our **export** is stuck"})

        chat = Conversation.objects.get(customer=world.ivan)
        assert response.status_code == 302
        assert response["Location"] == f"/chat/{chat.pk}/"
        page = text_of(client.get(response["Location"]))
        assert "Our <strong>export</strong> is stuck" in page
        assert "Waiting for an agent…" in page
        assert 'id="chat-composer"' in page
        assert 'aria-live="polite"' in page

    @pytest.mark.parametrize(
        ("body", "error"),
        [
            ("   ", "Write a message or choose a file."),
            ("x" * 5001, "A chat message can be at most 5000 characters (this one has 5001)."),
        ],
    )
    def test_a_refused_first_message_keeps_what_was_typed(self, world, body, error):
        response = client_of(world.ivan).post("/chat/start/site/", {"body": body})

        assert response.status_code == 400
        page = text_of(response)
        assert error in page
        if body.strip():
            assert body in page
        assert not Conversation.objects.exists()

    def test_a_file_of_a_type_not_accepted_is_refused_with_the_text_kept(self, world):
        program = SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 64)

        response = client_of(world.ivan).post(
            "/chat/start/site/", {"body": "See the installer", "attachments": [program]}
        )

        assert response.status_code == 400
        page = text_of(response)
        assert "“setup.exe” is not a type of file we accept." in page
        assert "See the installer</textarea>" in page

    def test_a_door_that_does_not_exist_is_not_found(self, world):
        assert client_of(world.ivan).post("/chat/start/back/", {"body": "Hi"}).status_code == 404

    def test_starting_again_resumes_the_open_chat(self, world):
        client = client_of(world.ivan)
        first = client.post("/chat/start/dedicated/", {"body": "First"})
        again = client.post("/chat/start/dedicated/", {"body": "Second"})

        chat = Conversation.objects.get(customer=world.ivan)
        assert first["Location"] == again["Location"] == f"/chat/{chat.pk}/"
        assert list(chat.messages.values_list("body", flat=True)) == ["First", "Second"]
        # The doors themselves lead back to it.
        assert client.get("/chat/dedicated/")["Location"] == f"/chat/{chat.pk}/"
        assert client.get("/chat/").status_code == 200  # the site chat is another door

    def test_a_resent_first_message_is_stored_once(self, world):
        client = client_of(world.ivan)
        client_id = str(uuid.uuid4())
        client.post("/chat/start/site/", {"body": "Once", "client_id": client_id})
        client.post("/chat/start/site/", {"body": "Once", "client_id": client_id})

        assert ChatMessage.objects.filter(body="Once").count() == 1

    def test_out_of_hours_a_left_message_becomes_a_chat_ticket_with_its_answer_time(self):
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            world = chat_world(at=FRIDAY_EVENING)
            User.objects.filter(pk=world.ivan.pk).update(preferred_language="en")
            response = client_of(world.ivan).post(
                "/chat/dedicated/leave-message/", {"body": "VPN is down for the whole office"}
            )

        assert response.status_code == 200
        ticket = Ticket.objects.get()
        assert ticket.channel == Channel.CHAT
        assert ticket.requester == world.ivan
        assert ticket.assignee == world.maria
        assert ticket.severity == Severity.STANDARD
        # Standard severity: two business hours, counted from the next opening.
        assert ticket.sla_due_at == MONDAY_OPENING + datetime.timedelta(hours=2)
        page = text_of(response)
        assert f'href="/tickets/{ticket.pk}/"' in page
        # 11:00 in Berlin is 12:00 in Sofia.
        assert "We will answer by Monday 16 March, 12:00 (your time, Europe/Sofia)." in page

    def test_an_empty_left_message_is_refused_not_a_server_error(self):
        with time_machine.travel(FRIDAY_EVENING, tick=False):
            world = chat_world(at=FRIDAY_EVENING)
            response = client_of(world.ivan).post("/chat/dedicated/leave-message/", {"body": ""})

        assert response.status_code == 400
        assert "Напишете съобщение." in text_of(
            response
        )  # "Write a message.": Ivan reads Bulgarian
        assert not Ticket.objects.exists()


# --- who may see a conversation -------------------------------------------------------------


@pytest.fixture
def ivans_chat(world) -> Conversation:
    chat = chat_of(world.ivan, door=Door.DEDICATED)
    services.chat_message_post(
        conversation=chat,
        author=world.ivan,
        body="The log",
        files=[SimpleUploadedFile("log.txt", b"line one\n", content_type="text/plain")],
    )
    return chat


class TestAccess:
    @pytest.mark.parametrize("who", ["bob", "anna"])
    def test_other_customers_never_find_ivans_chat(self, world, ivans_chat, who):
        client = client_of(getattr(world, who))
        chat_file = ivans_chat.files.get()

        assert client.get(f"/chat/{ivans_chat.pk}/").status_code == 404
        assert client.get(f"/chat/{ivans_chat.pk}/files/{chat_file.pk}/").status_code == 404
        assert client.post(f"/chat/{ivans_chat.pk}/messages/", {"body": "Hi"}).status_code == 404
        assert client.post(f"/chat/{ivans_chat.pk}/close/").status_code == 404
        ivans_chat.refresh_from_db()
        assert ivans_chat.status == ConversationStatus.WAITING
        assert ivans_chat.messages.count() == 2

    def test_customers_are_refused_the_staff_pages(self, world, ivans_chat):
        client = client_of(world.ivan)
        pk = ivans_chat.pk

        for url in ["/queue/chat/", f"/queue/chat/{pk}/", "/queue/chat/waiting/"]:
            assert client.get(url).status_code == 403, url
        for url in [
            "/queue/chat/presence/",
            f"/queue/chat/{pk}/take/",
            f"/queue/chat/{pk}/ticket/",
            f"/queue/chat/{pk}/attach/",
        ]:
            assert client.post(url, {"status": "available"}).status_code == 403, url

    def test_staff_opening_the_customers_address_are_sent_to_their_own_page(
        self, world, ivans_chat
    ):
        response = client_of(world.maria).get(f"/chat/{ivans_chat.pk}/")

        assert response.status_code == 302
        assert response["Location"] == f"/queue/chat/{ivans_chat.pk}/"

    def test_the_file_downloads_for_the_customer_and_staff(self, world, ivans_chat):
        chat_file = ivans_chat.files.get()
        for user in (world.ivan, world.maria):
            response = client_of(user).get(f"/chat/{ivans_chat.pk}/files/{chat_file.pk}/")
            assert response.status_code == 200
            assert b"".join(response.streaming_content) == b"line one\n"
            assert response["Content-Disposition"] == 'attachment; filename="log.txt"'


# --- files ----------------------------------------------------------------------------------


class TestFiles:
    def test_a_png_posted_by_the_page_is_stored_shown_and_downloaded(self, world, ivans_chat):
        client = client_of(world.ivan)
        picture = SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")

        response = client.post(
            f"/chat/{ivans_chat.pk}/messages/",
            {"body": "The error", "attachments": [picture], "client_id": str(uuid.uuid4())},
            headers={"accept": "application/json"},
        )

        assert response.status_code == 200
        message = ChatMessage.objects.get(pk=response.json()["id"])
        stored = message.files.get()
        assert (stored.original_name, stored.content_type) == ("screen.png", "image/png")
        page = text_of(client_of(world.maria).get(f"/queue/chat/{ivans_chat.pk}/"))
        assert f'href="/chat/{ivans_chat.pk}/files/{stored.pk}/">📎 screen.png</a>' in page
        download = client.get(f"/chat/{ivans_chat.pk}/files/{stored.pk}/")
        assert b"".join(download.streaming_content) == png_bytes()
        assert download["Content-Type"] == "image/png"

    def test_a_file_type_not_accepted_is_a_400_with_the_message(self, world, ivans_chat):
        program = SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 64)

        response = client_of(world.ivan).post(
            f"/chat/{ivans_chat.pk}/messages/",
            {"body": "", "attachments": [program]},
            headers={"accept": "application/json"},
        )

        assert response.status_code == 400
        errors = response.json()["errors"]
        assert any(
            "“setup.exe” is not a type of file we accept." in e for e in errors["attachments"]
        )
        assert ivans_chat.messages.count() == 2

    def test_without_javascript_a_message_posts_and_returns_to_the_page(self, world, ivans_chat):
        client = client_of(world.ivan)

        response = client.post(f"/chat/{ivans_chat.pk}/messages/", {"body": "No script here"})

        assert response.status_code == 302
        assert response["Location"] == f"/chat/{ivans_chat.pk}/"
        assert "No script here" in text_of(client.get(response["Location"]))

    def test_without_javascript_an_empty_message_shows_the_page_with_the_error(
        self, world, ivans_chat
    ):
        response = client_of(world.maria).post(f"/chat/{ivans_chat.pk}/messages/", {"body": ""})

        assert response.status_code == 400
        page = text_of(response)
        assert "Write a message or choose a file." in page
        assert 'data-testid="to-ticket"' in page


# --- the agents' side -----------------------------------------------------------------------


class TestStaff:
    def test_the_inbox_lists_waiting_vip_first_mine_and_colleagues(self, world):
        site = chat_of(world.bob, body="Printer on fire")
        with time_machine.travel(TUESDAY + datetime.timedelta(minutes=3), tick=False):
            vip = chat_of(world.ivan, door=Door.DEDICATED, body="VPN down")
            mine = chat_of(world.anna, body="Mine now")
            services.conversation_take(conversation=mine, agent=world.maria)
        with time_machine.travel(TUESDAY + datetime.timedelta(minutes=5), tick=False):
            page = text_of(client_of(world.maria).get("/queue/chat/"))

        waiting = page.split('data-testid="chats-waiting"')[1].split('data-testid="chats-mine"')[0]
        assert waiting.index(f'data-chat-id="{vip.pk}"') < waiting.index(
            f'data-chat-id="{site.pk}"'
        )
        assert "VPN down" in waiting
        assert "Printer on fire" in waiting
        assert 'class="badge vip"' in waiting
        assert ">2m 00s<" in waiting  # the VIP chat has waited two minutes
        assert ">5m 00s<" in waiting
        assert "<strong>You</strong>" in waiting  # Ivan's chat asked for Maria
        assert f'data-testid="take-{vip.pk}"' in waiting
        yours = page.split('data-testid="chats-mine"')[1].split('data-testid="chats-others"')[0]
        assert f'data-chat-id="{mine.pk}"' in yours
        others = page.split('data-testid="chats-others"')[1]
        peters = text_of(client_of(world.peter).get("/queue/chat/?part=rows"))
        assert f'data-chat-id="{mine.pk}"' not in others
        assert "Maria Ivanova" in peters.split('data-testid="chats-others"')[1]
        assert "<html" not in peters
        assert 'data-waiting-count="2"' in peters

    def test_staff_pages_carry_the_chat_link_with_the_waiting_count(self, world):
        chat_of(world.bob)
        chat_of(world.ivan)

        page = text_of(client_of(world.maria).get("/queue/"))

        assert 'data-testid="chat-nav"' in page
        assert 'data-chat-waiting title="Chats waiting for an agent">2</span>' in page
        assert 'id="staff-live"' in page
        assert "chat/staff.js" in page
        assert client_of(world.maria).get("/queue/chat/waiting/").json() == {"waiting": 2}

    def test_customers_get_the_launcher_and_no_staff_script(self, world):
        page = text_of(client_of(world.bob).get("/tickets/"))

        assert 'data-testid="chat-launcher"' in page
        assert 'href="/chat/"' in page
        assert "chat/staff.js" not in page
        assert 'data-testid="chat-nav"' not in page

    def test_presence_is_set_from_the_inbox(self, world):
        client = client_of(world.maria)

        response = client.post("/queue/chat/presence/", {"status": "busy"})

        assert response["Location"] == "/queue/chat/"
        assert world.maria.chat_presence.status == PresenceStatus.BUSY
        page = text_of(client.get("/queue/chat/"))
        assert 'value="busy" class="presence-option busy" aria-pressed="true"' in page
        client.post("/queue/chat/presence/", {"status": "nonsense"})
        assert "Choose available or busy." in text_of(client.get("/queue/chat/"))

    def test_a_manager_reads_chats_but_neither_takes_nor_writes(self, world):
        manager = UserFactory(email="mona@support.example")
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        chat = chat_of(world.ivan)

        inbox = text_of(client_of(manager).get("/queue/chat/"))
        page = text_of(client_of(manager).get(f"/queue/chat/{chat.pk}/"))

        assert f'data-testid="take-{chat.pk}"' not in inbox
        assert 'data-testid="presence"' not in inbox
        assert "Hello, our export is stuck." in page
        assert 'id="chat-composer"' not in page
        assert 'data-testid="chat-take"' not in page
        assert 'data-can-write=""' in page

    def test_take_then_a_colleague_is_told_it_is_taken(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED)
        page = text_of(client_of(world.maria).get(f"/queue/chat/{chat.pk}/"))
        assert 'data-testid="chat-take"' in page
        assert "Ivan Petrov" in page
        assert "Acme" in page

        taken = client_of(world.maria).post(f"/queue/chat/{chat.pk}/take/")
        late = client_of(world.peter).post(f"/queue/chat/{chat.pk}/take/", follow=True)

        assert taken["Location"] == f"/queue/chat/{chat.pk}/"
        chat.refresh_from_db()
        assert (chat.status, chat.agent) == (ConversationStatus.ACTIVE, world.maria)
        assert "Maria Ivanova has already taken this chat." in text_of(late)
        page = text_of(client_of(world.maria).get(f"/queue/chat/{chat.pk}/"))
        assert 'data-testid="chat-take"' not in page
        assert "Maria Ivanova joined the chat." in page

    def test_the_customer_closes_the_chat_and_can_no_longer_write(self, world):
        chat = chat_of(world.ivan)
        client = client_of(world.ivan)

        response = client.post(f"/chat/{chat.pk}/close/")

        assert response["Location"] == f"/chat/{chat.pk}/"
        page = text_of(client.get(f"/chat/{chat.pk}/"))
        assert "Ivan Petrov ended the chat." in page
        assert 'id="chat-composer" method="post"' in page
        assert "novalidate hidden>" in page
        assert 'data-testid="chat-close"' not in page
        refused = client.post(f"/chat/{chat.pk}/messages/", {"body": "Still there?"})
        assert refused.status_code == 400
        assert "This chat is closed." in text_of(refused)

    def test_turning_a_chat_into_a_ticket(self, world):
        chat = chat_of(world.ivan, body="Invoices fail to export")
        client = client_of(world.maria)

        refused = client.post(f"/queue/chat/{chat.pk}/ticket/", {"subject": "", "severity": "3"})
        response = client.post(
            f"/queue/chat/{chat.pk}/ticket/", {"subject": "Invoice export", "severity": "2"}
        )

        assert refused.status_code == 400
        assert "Give the ticket a subject." in text_of(refused)
        assert response["Location"] == f"/queue/chat/{chat.pk}/"
        ticket = Ticket.objects.get()
        assert (ticket.subject, ticket.severity, ticket.channel) == (
            "Invoice export",
            Severity.HIGH,
            Channel.CHAT,
        )
        page = text_of(client.get(f"/queue/chat/{chat.pk}/"))
        assert f'href="/queue/tickets/{ticket.pk}/"' in page
        assert f"Ticket #{ticket.pk} opened from the chat." in page
        assert 'data-testid="to-ticket"' not in page
        customer_page = text_of(client_of(world.ivan).get(f"/chat/{chat.pk}/"))
        assert f'href="/tickets/{ticket.pk}/" data-testid="chat-ticket"' in customer_page
        ticket_page = text_of(client_of(world.ivan).get(f"/tickets/{ticket.pk}/"))
        assert "Invoices fail to export" in ticket_page

    def test_attaching_a_chat_to_a_ticket_of_the_company(self, world):
        chat = chat_of(world.ivan)
        ours = make_ticket(requester=world.anna)
        theirs = make_ticket(requester=world.bob)
        client = client_of(world.maria)

        foreign = client.post(f"/queue/chat/{chat.pk}/attach/", {"ticket": theirs.pk})
        missing = client.post(f"/queue/chat/{chat.pk}/attach/", {"ticket": 10**12})
        nonsense = client.post(f"/queue/chat/{chat.pk}/attach/", {"ticket": "abc"})
        response = client.post(f"/queue/chat/{chat.pk}/attach/", {"ticket": ours.pk})

        assert foreign.status_code == missing.status_code == nonsense.status_code == 400
        assert f"Acme has no ticket #{theirs.pk}." in text_of(foreign)
        assert "Acme has no ticket #1000000000000." in text_of(missing)
        assert "A ticket number is a whole number, such as 1042." in text_of(nonsense)
        assert response["Location"] == f"/queue/chat/{chat.pk}/"
        chat.refresh_from_db()
        assert chat.ticket == ours
        assert f"The chat is kept on ticket #{ours.pk}." in text_of(
            client.get(f"/queue/chat/{chat.pk}/")
        )


# --- queries --------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _add_messages(chat: Conversation, world: ChatWorld, count: int) -> None:
    for number in range(count):
        author = world.ivan if number % 2 else world.maria
        files = (
            [SimpleUploadedFile(f"n{number}.txt", b"note\n", content_type="text/plain")]
            if number % 3 == 0
            else []
        )
        services.chat_message_post(
            conversation=chat, author=author, body=f"Line {number}", files=files
        )


class TestQueries:
    def test_the_conversation_pages_do_not_grow_with_the_messages(
        self, world, django_assert_max_num_queries
    ):
        chat = chat_of(world.ivan, door=Door.DEDICATED)
        _add_messages(chat, world, 3)
        ivan, maria = client_of(world.ivan), client_of(world.maria)
        customer_page = _queries(ivan, f"/chat/{chat.pk}/")
        staff_page = _queries(maria, f"/queue/chat/{chat.pk}/")

        _add_messages(chat, world, 27)

        with django_assert_max_num_queries(customer_page):
            assert ivan.get(f"/chat/{chat.pk}/").text.count('class="bubble ') == 32
        with django_assert_max_num_queries(staff_page):
            assert maria.get(f"/queue/chat/{chat.pk}/").text.count('class="bubble ') == 32
        # Absolute budgets too: the session and role (four, staff), the chat, its messages and
        # their files, whom it asked for; the bell's and the nav's counts on staff pages.
        assert customer_page <= 7
        assert staff_page <= 12

    def test_the_inbox_does_not_grow_with_the_chats(self, world, django_assert_max_num_queries):
        def open_chats(count: int) -> None:
            for _ in range(count):
                customer = CustomerFactory(company=world.acme)
                chat = chat_of(customer, door=Door.DEDICATED)
                if Conversation.objects.count() % 2:
                    services.conversation_take(conversation=chat, agent=world.peter)

        open_chats(3)
        client = client_of(world.maria)
        few = _queries(client, "/queue/chat/")

        open_chats(27)

        with django_assert_max_num_queries(few):
            assert client.get("/queue/chat/").text.count("data-chat-id=") == 30
        assert few <= 11


class TestRateLimit:
    def test_posting_over_the_chat_limit_is_refused_with_the_text_kept(self, world, settings):
        settings.CHAT_RATE_LIMIT_MESSAGES = 2
        client = client_of(world.ivan)
        chat = chat_of(world.ivan, at=TUESDAY)
        url = f"/chat/{chat.pk}/messages/"
        answers = [
            client.post(url, {"body": f"Note {n}"}, HTTP_ACCEPT="application/json").status_code
            for n in range(3)
        ]
        assert answers == [200, 200, 429]
        refused = client.post(url, {"body": "Kept text"})
        assert refused.status_code == 429
        assert "Too many messages: wait a few seconds." in text_of(refused)
        assert "Kept text" in refused.content.decode()
        assert chat.messages.filter(body__startswith="Note").count() == 2
