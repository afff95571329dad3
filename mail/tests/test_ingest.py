"""The ingestion service: where each message lands, threading, idempotency, out-of-hours mail."""

import datetime
import email
import email.policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mail.models import Acknowledgement, InboundMail, InboundState, ThreadId, Transport
from mail.services import mail_ingest
from mail.tests.factories import mail_world, message
from outbox.models import Email
from tickets import services as ticket_services
from tickets.models import Channel, Severity, Status, TicketMessage, Visibility

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# A Tuesday, desk open (10:00 Berlin).
OPEN = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
# Friday 18:30 Berlin: closed until Monday 09:00.
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=BERLIN)


@pytest.fixture
def world():
    with time_machine.travel(OPEN, tick=False):
        yield mail_world(at=OPEN)


def ingest(raw: bytes, at: datetime.datetime = OPEN, **kwargs) -> InboundMail:
    with time_machine.travel(at, tick=False):
        return mail_ingest(raw=raw, received_at=at, transport=Transport.PIPE, **kwargs)


def stored(inbound: InboundMail) -> bytes:
    with inbound.raw.open("rb") as file:
        return file.read()


class TestNewTickets:
    def test_mail_to_the_dedicated_address_opens_a_vip_ticket_for_the_dedicated_agent(self, world):
        inbound = ingest(message(subject="URGENT Sev 1: the VPN is down"))

        assert inbound.state == InboundState.TICKET
        ticket = inbound.ticket
        assert ticket.company == world.acme
        assert ticket.requester == world.ivan
        assert ticket.channel == Channel.EMAIL
        # The subject's "Sev 1" is the customer's words, not a severity.
        assert ticket.severity == Severity.STANDARD
        assert ticket.assignee == world.agent
        assert ticket.created_at == OPEN
        assert ticket.description == "Since Monday the VPN disconnects every hour."
        assert stored(inbound).startswith(b"From: ivan@acme.example")

    def test_general_mail_takes_the_companys_own_severity_and_no_agent(self, world):
        world.globex.mail_severity = 4
        world.globex.save()

        inbound = ingest(message(sender="bob@globex.example", to="support@support.example"))

        assert inbound.state == InboundState.TICKET
        assert inbound.ticket.company == world.globex
        assert inbound.ticket.severity == 4
        assert inbound.ticket.assignee is None

    def test_colleagues_in_copy_follow_the_ticket(self, world):
        inbound = ingest(message(cc="Anna <anna@acme.example>, someone@elsewhere.example"))

        assert list(inbound.ticket.cc.all()) == [world.anna]

    def test_a_repeated_delivery_makes_nothing_twice(self, world):
        raw = message(message_id="<once@acme.example>")

        first = ingest(raw)
        again = ingest(raw)

        assert again.pk == first.pk
        assert InboundMail.objects.count() == 1
        assert world.acme.tickets.count() == 1

    def test_a_message_without_message_id_is_recognised_by_its_bytes(self, world):
        raw = message().replace(b"Message-ID:", b"X-Old-Message-ID:")

        assert ingest(raw).pk == ingest(raw).pk
        assert world.acme.tickets.count() == 1


class TestSenders:
    def test_an_unknown_sender_is_held_for_an_agent_and_opens_nothing(self, world):
        inbound = ingest(message(sender="stranger@example.net"))

        assert inbound.state == InboundState.UNVERIFIED
        assert inbound.company == world.acme
        assert inbound.ticket is None
        assert world.acme.tickets.count() == 0

    def test_a_user_of_another_company_is_unknown_at_this_companys_address(self, world):
        inbound = ingest(message(sender="bob@globex.example"))

        assert inbound.state == InboundState.UNVERIFIED
        assert world.acme.tickets.count() == world.globex.tickets.count() == 0

    def test_our_own_address_never_opens_a_ticket(self, world):
        inbound = ingest(message(sender="support@support.example"))

        assert inbound.state == InboundState.AUTOMATED
        assert world.acme.tickets.count() == 0


class TestThreading:
    def test_a_reply_to_our_message_lands_on_the_ticket(self, world):
        ticket = ingest(message()).ticket
        with time_machine.travel(OPEN, tick=False):
            ticket_services.ticket_reply(ticket=ticket, author=world.agent, body="Which client?")
        ours = ThreadId.objects.get(ticket=ticket, is_ours=True).value

        inbound = ingest(
            message(
                subject="Re: whatever the client made of it",
                body="The Windows client.\n\nOn Tue, Maria wrote:\n> Which client?",
                in_reply_to=ours,
            ),
            at=OPEN + datetime.timedelta(hours=1),
        )

        assert inbound.state == InboundState.REPLY
        assert inbound.ticket == ticket
        assert inbound.ticket_message.body == "The Windows client."
        assert inbound.ticket_message.author == world.ivan
        assert "> Which client?" in inbound.full_text

    def test_the_subject_tag_threads_when_the_headers_are_lost(self, world):
        ticket = ingest(message()).ticket

        inbound = ingest(message(subject=f"Re: [#{ticket.pk}] VPN", body="Still broken."))

        assert inbound.ticket == ticket
        assert inbound.state == InboundState.REPLY

    def test_another_companys_ticket_number_opens_a_new_ticket_instead(self, world):
        foreign = ingest(message(sender="bob@globex.example", to="support@support.example"))

        inbound = ingest(message(subject=f"[#{foreign.ticket.pk}] sneaking in"))

        assert inbound.state == InboundState.TICKET
        assert inbound.ticket.company == world.acme
        assert foreign.ticket.messages.count() == 0

    def test_a_reply_to_a_closed_ticket_opens_a_follow_up(self, world):
        ticket = ingest(message()).ticket
        with time_machine.travel(OPEN, tick=False):
            ticket_services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=None)

        inbound = ingest(message(subject=f"Re: [#{ticket.pk}] VPN", body="It is back."))

        assert inbound.state == InboundState.TICKET
        assert inbound.ticket != ticket
        assert f"#{ticket.pk}" in inbound.ticket.description


class TestAutomatedMail:
    def test_an_out_of_office_reply_is_kept_on_the_ticket_and_changes_nothing(self, world):
        ticket = ingest(message()).ticket
        with time_machine.travel(OPEN, tick=False):
            ticket_services.ticket_reply(
                ticket=ticket, author=world.agent, body="Fixed?", new_status=Status.SOLVED
            )
        ours = ThreadId.objects.get(ticket=ticket, is_ours=True).value
        emails_before = Email.objects.count()

        inbound = ingest(
            message(
                subject="Out of office",
                body="I am away until Monday.",
                in_reply_to=ours,
                headers={"Auto-Submitted": "auto-replied"},
            )
        )

        ticket.refresh_from_db()
        assert inbound.state == InboundState.AUTOMATED
        assert ticket.status == Status.SOLVED
        note = inbound.ticket_message
        assert (note.visibility, note.is_automatic) == (Visibility.INTERNAL, True)
        assert Email.objects.count() == emails_before  # and no acknowledgement, no notification

    @pytest.mark.parametrize(
        "headers",
        [
            {"Auto-Submitted": "auto-generated"},
            {"X-Autoreply": "yes"},
            {"Precedence": "bulk"},
            {"Precedence": "auto_reply"},
            {"List-Id": "<news.example.net>"},
            {"Return-Path": "<>"},
        ],
    )
    def test_mail_a_program_sent_opens_no_ticket(self, world, headers):
        inbound = ingest(message(headers=headers), at=FRIDAY_EVENING)

        assert inbound.state == InboundState.AUTOMATED
        assert world.acme.tickets.count() == 0
        assert not Email.objects.exists()

    def test_a_null_envelope_sender_is_a_bounce(self, world):
        inbound = ingest(message(), envelope_sender="")

        assert inbound.state == InboundState.AUTOMATED

    def test_auto_submitted_no_is_a_person(self, world):
        assert ingest(message(headers={"Auto-Submitted": "no"})).state == InboundState.TICKET


class TestOutOfHours:
    def test_friday_evening_mail_is_held_until_monday_and_acknowledged_once(self, world):
        inbound = ingest(message(), at=FRIDAY_EVENING)

        ticket = inbound.ticket
        ticket.refresh_from_db()
        monday_nine = datetime.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)
        assert ticket.sla_clock_started_at == monday_nine
        assert ticket.sla_due_at == monday_nine + datetime.timedelta(hours=2)
        [ack] = Email.objects.filter(topic=f"mail-ack:{ticket.pk}")
        assert ack.to == "ivan@acme.example"
        assert ack.headers["Auto-Submitted"] == "auto-replied"
        assert ack.headers["X-Auto-Response-Suppress"] == "All"
        assert ack.headers["In-Reply-To"] == inbound.message_id
        # In Ivan's language and zone: Monday 11:00 Berlin is 12:00 in Sofia.
        assert "пон 16 мар 12:00" in ack.body.lower()
        assert "Europe/Sofia" in ack.body
        assert "/tickets/new/" in ack.body

        second = ingest(
            message(subject=f"Re: [#{ticket.pk}] VPN", body="One more detail."),
            at=FRIDAY_EVENING + datetime.timedelta(hours=2),
        )

        assert second.ticket == ticket
        assert Email.objects.filter(topic=f"mail-ack:{ticket.pk}").count() == 1
        assert Acknowledgement.objects.count() == 1

    def test_mail_in_hours_gets_no_acknowledgement(self, world):
        ingest(message())

        assert not Email.objects.filter(topic__startswith="mail-ack:").exists()


class TestStaffReplies:
    def test_a_public_reply_goes_out_threaded_to_the_requester_and_ccs(self, world):
        inbound = ingest(message(cc="anna@acme.example"))
        ticket = inbound.ticket

        with time_machine.travel(OPEN, tick=False):
            reply = ticket_services.ticket_reply(
                ticket=ticket, author=world.agent, body="We restarted the VPN gateway."
            )
            ticket_services.ticket_add_note(ticket=ticket, author=world.agent, body="internal")

        emails = {email.to: email for email in Email.objects.filter(topic__startswith="ticket-")}
        assert set(emails) == {"ivan@acme.example", "anna@acme.example"}
        to_ivan = emails["ivan@acme.example"]
        assert f"[#{ticket.pk}]" in to_ivan.subject
        assert to_ivan.headers["In-Reply-To"] == inbound.message_id
        assert to_ivan.headers["References"] == inbound.message_id
        assert to_ivan.headers["Reply-To"] == "acme@vip.support.example"
        assert "Auto-Submitted" not in to_ivan.headers  # a person wrote it
        assert "We restarted the VPN gateway." in to_ivan.body
        assert "internal" not in to_ivan.body
        # Ivan reads Bulgarian.
        assert "Отговорете на това писмо" in to_ivan.body
        assert ThreadId.objects.filter(ticket=ticket, is_ours=True).count() == 1
        assert reply.pk

    def test_a_customers_own_web_reply_is_not_mailed(self, world):
        ticket = ingest(message()).ticket
        with time_machine.travel(OPEN, tick=False):
            ticket_services.ticket_reply(ticket=ticket, author=world.ivan, body="More info")

        assert not Email.objects.filter(topic__startswith="ticket-reply:").exists()


class TestLimits:
    def test_a_message_over_the_limit_is_refused_with_a_bounce(self, world, settings):
        settings.MAIL_MAX_BYTES = 10_000
        raw = message(body="x" * 20_000)

        inbound = ingest(raw)

        assert inbound.state == InboundState.REFUSED
        assert inbound.raw.size == len(raw)  # kept, not cut
        [bounce] = Email.objects.filter(topic="mail-bounce")
        assert bounce.to == "ivan@acme.example"
        assert bounce.headers["Auto-Submitted"] == "auto-replied"
        assert world.acme.tickets.count() == 0

    def test_refused_attachments_are_named_on_the_ticket(self, world):
        parsed = email.message_from_bytes(message(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        executable = b"MZ\x90\x00" + b"\x00" * 100
        parsed.add_attachment(executable, "application", "octet-stream", filename="setup.exe")
        parsed.add_attachment(b"log line\n", "text", "plain", filename="vpn.log")

        inbound = ingest(parsed.as_bytes())

        ticket = inbound.ticket
        assert [a.original_name for a in ticket.attachments.all()] == ["vpn.log"]
        assert "setup.exe" in ticket.description

    def test_a_nul_in_a_header_is_dropped_not_fatal(self, world):
        raw = message(subject="VPN").replace(b"Subject: VPN", b"Subject: VPN\x00 down")

        inbound = ingest(raw)

        assert inbound.state == InboundState.TICKET
        assert inbound.ticket.subject == "VPN down"

    def test_a_message_the_database_refuses_is_kept_for_an_agent(self, world, monkeypatch):
        from django.db import DataError

        def refuse(**kwargs):
            raise DataError("invalid byte sequence")

        monkeypatch.setattr("mail.services.ticket_services.tickets_create_bulk", refuse)

        inbound = ingest(message())

        assert inbound.state == InboundState.UNREADABLE
        assert "invalid byte sequence" in inbound.problem
        assert InboundMail.objects.get().state == InboundState.UNREADABLE

    def test_an_unreadable_message_is_kept_for_an_agent(self, world):
        inbound = ingest(b"\x00\x01 not an e-mail at all")

        assert inbound.state == InboundState.UNREADABLE
        assert stored(inbound) == b"\x00\x01 not an e-mail at all"


def test_automatic_messages_never_count_as_the_customers_words(world):
    ticket = ingest(message()).ticket
    with time_machine.travel(OPEN, tick=False):
        ticket_services.ticket_reply(
            ticket=ticket, author=world.agent, body="Done", new_status=Status.WAITING
        )
    ours = ThreadId.objects.get(ticket=ticket, is_ours=True).value

    ingest(message(headers={"Precedence": "auto_reply"}, in_reply_to=ours))

    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    assert TicketMessage.objects.filter(ticket=ticket, is_automatic=True).count() == 1


def test_an_encoded_comma_in_a_name_splits_no_address(world):
    raw = message().replace(
        b"From: ivan@acme.example", b"From: =?utf-8?q?Petrov=2C_Ivan?= <ivan@acme.example>"
    )

    inbound = ingest(raw)

    assert inbound.sender == "ivan@acme.example"
    assert inbound.sender_name == "Petrov, Ivan"
    assert inbound.state == InboundState.TICKET
