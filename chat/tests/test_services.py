"""The chat's writes and reads: who is alerted, when the backup is, the button's state, tickets
from chats, messages left out of hours, read receipts and the rate limit."""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from chat import selectors, services
from chat.models import (
    ChatMessage,
    Conversation,
    ConversationStatus,
    Door,
    PresenceStatus,
    Side,
)
from chat.ratelimit import chat_rate_limited
from chat.selectors import Availability, chat_button, chat_contacts
from chat.tests.factories import chat_of, chat_world
from outbox.models import Email
from tickets.models import Channel, EventKind, Status, TicketEvent, TicketMessage, Visibility
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday 10:00 Berlin: the desk is open.
TUESDAY = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
# Friday 18:30 Berlin: closed until Monday 09:00.
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=BERLIN)
MONDAY_NINE = datetime.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def world():
    with time_machine.travel(TUESDAY, tick=False):
        yield chat_world(at=TUESDAY - datetime.timedelta(days=1))


def emails_to(address: str) -> list[Email]:
    return list(Email.objects.filter(to=address))


class TestStart:
    def test_a_vip_chat_alerts_the_dedicated_agent_and_schedules_the_backup(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)

        assert chat.is_vip
        assert chat.status == ConversationStatus.WAITING
        assert chat.requested_agent == world.maria
        assert chat.backup_agent == world.peter
        assert chat.backup_alert_at == TUESDAY + datetime.timedelta(minutes=2)
        [alert] = emails_to(world.maria.email)
        assert "Acme" in alert.subject
        assert "export is stuck" in alert.body
        assert alert.headers["Auto-Submitted"] == "auto-generated"
        assert emails_to(world.peter.email) == []
        [first] = chat.messages.all()
        assert first.side == Side.CUSTOMER
        assert first.author == world.ivan
        assert first.created_at == TUESDAY

    def test_the_backup_is_asked_first_when_only_the_backup_is_at_the_desk(self, world):
        services.presence_touch(agent=world.peter, at=TUESDAY)

        assert chat_contacts(company=world.acme, at=TUESDAY) == (world.peter, world.maria)
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        assert (chat.requested_agent, chat.backup_agent) == (world.peter, world.maria)

    def test_the_site_chat_is_open_to_every_customer_and_alerts_nobody_for_a_standard_one(
        self, world
    ):
        chat = chat_of(world.bob, door=Door.SITE, at=TUESDAY)

        assert not chat.is_vip
        assert chat.requested_agent is None
        assert chat.backup_alert_at is None
        assert Email.objects.count() == 0

    def test_a_company_without_the_add_on_has_no_dedicated_door(self, world):
        with pytest.raises(ValidationError, match="no dedicated agent"):
            chat_of(world.bob, door=Door.DEDICATED, at=TUESDAY)
        assert not Conversation.objects.exists()

    def test_starting_again_adds_to_the_open_chat(self, world):
        first = chat_of(world.ivan, door=Door.SITE, at=TUESDAY)
        again = chat_of(world.ivan, door=Door.SITE, body="Any news?", at=TUESDAY)

        assert again.pk == first.pk
        assert list(first.messages.values_list("body", flat=True)) == [
            "Hello, our export is stuck.",
            "Any news?",
        ]
        # Only one alert for one chat.
        assert Conversation.objects.count() == 1

    def test_staff_and_empty_messages_are_refused(self, world):
        with pytest.raises(ValidationError):
            chat_of(world.maria, at=TUESDAY)
        with pytest.raises(ValidationError, match="Write a message"):
            chat_of(world.ivan, body="   ", at=TUESDAY)
        with pytest.raises(ValidationError, match="at most 5000"):
            chat_of(world.ivan, body="x" * 5001, at=TUESDAY)
        assert not Conversation.objects.exists()


class TestMessages:
    def test_a_resend_with_the_same_client_id_is_stored_once(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        client_id = uuid.uuid4()

        first = services.chat_message_post(
            conversation=chat, author=world.ivan, body="Once", client_id=client_id, at=TUESDAY
        )
        again = services.chat_message_post(
            conversation=chat, author=world.ivan, body="Once", client_id=client_id, at=TUESDAY
        )

        assert again.pk == first.pk
        assert chat.messages.filter(body="Once").count() == 1

    def test_markdown_is_rendered_safely_once(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        message = services.chat_message_post(
            conversation=chat,
            author=world.ivan,
            body="**bold** <script>alert(1)</script>",
            at=TUESDAY,
        )
        assert "<strong>bold</strong>" in message.body_html
        assert "<script>" not in message.body_html

    def test_an_agent_writing_in_a_waiting_chat_takes_it(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        services.chat_message_post(
            conversation=chat, author=world.olga, body="Hello Ivan", at=TUESDAY
        )
        chat.refresh_from_db()
        assert chat.status == ConversationStatus.ACTIVE
        assert chat.agent == world.olga
        sides = list(chat.messages.values_list("side", flat=True))
        assert sides == [Side.CUSTOMER, Side.SYSTEM, Side.STAFF]

    def test_a_colleague_and_another_company_cannot_write_in_a_customers_chat(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        for stranger in (world.anna, world.bob):
            with pytest.raises(ValidationError):
                services.chat_message_post(
                    conversation=chat, author=stranger, body="Me too", at=TUESDAY
                )
        assert chat.messages.count() == 1

    def test_a_closed_chat_takes_no_more_messages(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        services.conversation_close(conversation=chat, actor=world.ivan, at=TUESDAY)
        with pytest.raises(ValidationError, match="closed"):
            services.chat_message_post(
                conversation=chat, author=world.ivan, body="Hello?", at=TUESDAY
            )

    def test_read_receipts_only_move_forward_and_only_to_real_messages(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        reply = services.chat_message_post(
            conversation=chat, author=world.maria, body="On it", at=TUESDAY
        )

        assert services.conversation_read(conversation=chat, reader=world.ivan, up_to=reply.pk)
        assert not services.conversation_read(
            conversation=chat, reader=world.ivan, up_to=reply.pk - 1
        )
        # An id past the newest message counts as the newest, never beyond it.
        services.conversation_read(conversation=chat, reader=world.maria, up_to=reply.pk + 999)
        chat.refresh_from_db()
        assert chat.customer_read_up_to == reply.pk
        assert chat.staff_read_up_to == reply.pk


class TestTakeAndClose:
    def test_the_first_agent_takes_the_chat_and_the_second_is_told(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)

        services.conversation_take(conversation=chat, agent=world.maria, at=TUESDAY)
        with pytest.raises(ValidationError, match="Maria Ivanova has already taken"):
            services.conversation_take(conversation=chat, agent=world.olga, at=TUESDAY)
        # Taking one's own chat again is harmless.
        services.conversation_take(conversation=chat, agent=world.maria, at=TUESDAY)

        chat.refresh_from_db()
        assert chat.agent == world.maria
        assert chat.taken_at == TUESDAY
        assert chat.messages.filter(side=Side.SYSTEM).count() == 1

    def test_customers_and_managers_do_not_take_chats(self, world):
        from accounts.tests.factories import UserFactory

        manager = UserFactory(email="boss@support.example")
        from django.contrib.auth.models import Group

        manager.groups.add(Group.objects.get(name="Managers"))
        chat = chat_of(world.ivan, at=TUESDAY)
        for user in (world.anna, manager):
            with pytest.raises(ValidationError):
                services.conversation_take(conversation=chat, agent=user, at=TUESDAY)

    def test_closing_twice_is_harmless(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        services.conversation_close(conversation=chat, actor=world.ivan, at=TUESDAY)
        services.conversation_close(conversation=chat, actor=world.ivan, at=TUESDAY)
        chat.refresh_from_db()
        assert chat.status == ConversationStatus.CLOSED
        assert chat.closed_at == TUESDAY
        assert chat.messages.filter(side=Side.SYSTEM).count() == 1


class TestBackupAlert:
    def test_the_backup_is_alerted_once_after_two_minutes_unanswered(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        almost = TUESDAY + datetime.timedelta(minutes=2) - datetime.timedelta(microseconds=1)

        assert services.conversations_alert_backups(now=almost) == 0
        assert emails_to(world.peter.email) == []

        due = TUESDAY + datetime.timedelta(minutes=2)
        assert services.conversation_alert_backup(conversation_id=chat.pk, now=due)
        # The Beat scan and a repeated task find nothing left to claim.
        assert services.conversations_alert_backups(now=due + datetime.timedelta(minutes=1)) == 0
        assert not services.conversation_alert_backup(conversation_id=chat.pk, now=due)

        [alert] = emails_to(world.peter.email)
        assert "2 minutes" in alert.body
        chat.refresh_from_db()
        assert chat.backup_alerted_at == due

    def test_a_chat_taken_in_time_alerts_no_backup(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        services.conversation_take(
            conversation=chat, agent=world.maria, at=TUESDAY + datetime.timedelta(seconds=90)
        )
        assert services.conversations_alert_backups(now=TUESDAY + datetime.timedelta(hours=1)) == 0
        assert emails_to(world.peter.email) == []

    def test_a_missed_scan_still_alerts_later(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        late = TUESDAY + datetime.timedelta(minutes=7)
        assert services.conversations_alert_backups(now=late) == 1
        chat.refresh_from_db()
        assert chat.backup_alerted_at == late


class TestButton:
    def test_online_with_the_dedicated_agent_at_the_desk(self, world):
        services.presence_touch(agent=world.maria, at=TUESDAY)
        button = chat_button(customer=world.ivan, at=TUESDAY)
        assert button is not None
        assert (button.state, button.agent, button.next_opening) == (
            Availability.ONLINE,
            world.maria,
            None,
        )

    def test_the_backup_answers_when_the_dedicated_agent_is_busy(self, world):
        services.presence_set_status(agent=world.maria, status=PresenceStatus.BUSY, at=TUESDAY)
        services.presence_touch(agent=world.peter, at=TUESDAY)
        button = chat_button(customer=world.ivan, at=TUESDAY)
        assert button is not None
        assert (button.state, button.agent) == (
            Availability.ONLINE,
            world.peter,
        )

    def test_busy_when_the_agent_has_as_many_chats_as_they_take(self, world, settings):
        settings.CHAT_AGENT_CAPACITY = 1
        services.presence_touch(agent=world.maria, at=TUESDAY)
        other = chat_of(world.bob, at=TUESDAY)
        services.conversation_take(conversation=other, agent=world.maria, at=TUESDAY)
        button = chat_button(customer=world.ivan, at=TUESDAY)
        assert button is not None
        assert (button.state, button.agent) == (
            Availability.BUSY,
            world.maria,
        )

    def test_offline_when_nobody_has_been_seen_lately(self, world):
        services.presence_touch(agent=world.maria, at=TUESDAY - datetime.timedelta(minutes=5))
        button = chat_button(customer=world.ivan, at=TUESDAY)
        assert button is not None
        assert (button.state, button.agent, button.next_opening) == (
            Availability.OFFLINE,
            world.maria,
            None,
        )

    def test_offline_with_the_next_opening_when_the_desk_is_closed(self, world):
        services.presence_touch(agent=world.maria, at=FRIDAY_EVENING)
        button = chat_button(customer=world.ivan, at=FRIDAY_EVENING)
        assert button is not None
        assert button.state is Availability.OFFLINE
        assert button.next_opening == MONDAY_NINE

    def test_the_open_dedicated_chat_is_offered_to_resume(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        button = chat_button(customer=world.ivan, at=TUESDAY)
        assert button is not None
        assert button.open_conversation == chat


class TestTickets:
    def test_a_chat_turned_into_a_ticket_keeps_its_transcript_on_the_timeline(self, world):
        chat = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        services.chat_message_post(
            conversation=chat, author=world.maria, body="Which export?", at=TUESDAY
        )

        ticket = services.conversation_to_ticket(
            conversation=chat, agent=world.maria, subject="Export stuck", severity=2, at=TUESDAY
        )

        assert (ticket.channel, ticket.requester, ticket.assignee) == (
            Channel.CHAT,
            world.ivan,
            world.maria,
        )
        assert ticket.description == "Hello, our export is stuck."
        [transcript] = TicketMessage.objects.filter(ticket=ticket)
        assert transcript.visibility == Visibility.PUBLIC
        assert transcript.is_automatic
        assert "export is stuck" in transcript.body
        assert "Which export?" in transcript.body
        assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CHAT).count() == 1
        # Ivan's ticket: his zone, named (10:00 in Berlin is 11:00 in Sofia).
        assert "Europe/Sofia" in transcript.body
        assert "** 11:00\n" in transcript.body
        # The automatic transcript is no answer: the first response is still due.
        ticket.refresh_from_db()
        assert ticket.sla_due_at is not None
        assert ticket.status == Status.NEW

        services.chat_message_post(conversation=chat, author=world.ivan, body="The CSV", at=TUESDAY)
        services.conversation_close(conversation=chat, actor=world.maria, at=TUESDAY)
        rest = TicketMessage.objects.filter(ticket=ticket).order_by("pk").last()
        assert rest is not None
        assert "The CSV" in rest.body
        assert "Which export?" not in rest.body

        with pytest.raises(ValidationError, match="already on ticket"):
            services.conversation_to_ticket(
                conversation=chat, agent=world.maria, subject="Again", severity=3, at=TUESDAY
            )

    def test_a_chat_is_attached_only_to_an_open_ticket_of_its_company(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        foreign = make_ticket(requester=world.bob, at=TUESDAY)
        with pytest.raises(ValidationError, match="Choose a ticket of Acme"):
            services.conversation_attach(
                conversation=chat, agent=world.maria, ticket=foreign, at=TUESDAY
            )
        own = make_ticket(requester=world.anna, at=TUESDAY)
        services.conversation_attach(conversation=chat, agent=world.maria, ticket=own, at=TUESDAY)
        chat.refresh_from_db()
        assert chat.ticket == own
        assert TicketMessage.objects.filter(ticket=own, is_automatic=True).count() == 1

    def test_a_long_chat_goes_on_the_ticket_in_pieces_that_fit(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        for number in range(12):
            services.chat_message_post(
                conversation=chat, author=world.ivan, body=f"{number} " + "x" * 4_900, at=TUESDAY
            )
        ticket = services.conversation_to_ticket(
            conversation=chat, agent=world.maria, subject="Long", severity=3, at=TUESDAY
        )
        pieces = list(TicketMessage.objects.filter(ticket=ticket).order_by("pk"))
        assert len(pieces) == 2
        assert all(len(piece.body) <= 50_000 for piece in pieces)
        assert "11 xxx" in pieces[-1].body

    def test_a_message_left_out_of_hours_becomes_a_chat_ticket_due_after_the_opening(self, world):
        ticket = services.chat_leave_message(
            customer=world.ivan, body="Please call me about the invoice.", at=FRIDAY_EVENING
        )

        assert ticket.channel == Channel.CHAT
        assert ticket.assignee == world.maria
        assert ticket.subject == "Chat message: Please call me about the invoice."
        assert ticket.sla_clock_started_at == MONDAY_NINE
        # VIP, severity 3: a first response within 2 business hours.
        assert ticket.sla_due_at == MONDAY_NINE + datetime.timedelta(hours=2)

    def test_leaving_an_empty_message_is_refused(self, world):
        with pytest.raises(ValidationError, match="Write your message"):
            services.chat_leave_message(customer=world.ivan, body=" ", at=FRIDAY_EVENING)


class TestReads:
    def test_a_customer_sees_only_their_own_chats_and_staff_see_all(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        assert selectors.conversation_for_user(conversation_id=chat.pk, user=world.ivan) == chat
        assert selectors.conversation_for_user(conversation_id=chat.pk, user=world.olga) == chat
        for stranger in (world.anna, world.bob):
            assert selectors.conversation_for_user(conversation_id=chat.pk, user=stranger) is None

    def test_a_customer_who_left_the_company_no_longer_sees_its_chats(self, world):
        chat = chat_of(world.ivan, at=TUESDAY)
        world.ivan.company = world.globex
        world.ivan.save()
        assert selectors.conversation_for_user(conversation_id=chat.pk, user=world.ivan) is None

    def test_the_inbox_puts_vip_chats_first_then_the_longest_waiting(self, world):
        standard = chat_of(world.bob, at=TUESDAY)
        vip = chat_of(world.anna, at=TUESDAY + datetime.timedelta(minutes=1))
        mine = chat_of(world.ivan, door=Door.DEDICATED, at=TUESDAY)
        services.conversation_take(conversation=mine, agent=world.maria, at=TUESDAY)

        inbox = selectors.chat_inbox(agent=world.maria)
        assert inbox.waiting == [vip, standard]
        assert inbox.mine == [mine]
        assert inbox.others == []
        assert selectors.chat_inbox(agent=world.olga).others == [mine]
        assert selectors.first_customer_lines([vip, standard]) == {
            vip.pk: "Hello, our export is stuck.",
            standard.pk: "Hello, our export is stuck.",
        }


def test_the_rate_limit_counts_per_user_within_the_window(settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 3
    assert [chat_rate_limited(user_id=7, action="message") for _ in range(4)] == [
        False,
        False,
        False,
        True,
    ]
    assert not chat_rate_limited(user_id=8, action="message")
    assert not chat_rate_limited(user_id=7, action="typing")


def test_the_rate_limit_counts_the_same_in_the_local_memory_cache_of_make_run(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CHAT_RATE_LIMIT_MESSAGES = 2
    from chat.ratelimit import _redis_client

    assert _redis_client("any") is None  # counted by add() and incr(), not Redis' pipeline
    assert [chat_rate_limited(user_id=7, action="message") for _ in range(3)] == [
        False,
        False,
        True,
    ]


def test_chat_messages_are_kept_in_order_of_arrival(world):
    chat = chat_of(world.ivan, at=TUESDAY)
    services.chat_message_post(conversation=chat, author=world.maria, body="b", at=TUESDAY)
    bodies = list(ChatMessage.objects.filter(conversation=chat).values_list("body", flat=True))
    assert bodies[-1] == "b"
