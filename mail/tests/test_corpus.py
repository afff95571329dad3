"""Every message of the corpus is stored, none crashes, and each lands where it should."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mail.models import InboundMail, InboundState, ThreadId, Transport
from mail.services import mail_ingest
from mail.tests import corpus
from mail.tests.factories import mail_world, message
from outbox.models import Email
from tickets import services as ticket_services
from tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db

# A Tuesday morning: the desk is open, so nothing is held and no acknowledgement goes out.
AT = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def world():
    with time_machine.travel(AT, tick=False):
        yield mail_world(at=AT)


def _thread_target(world) -> tuple[Ticket, str]:
    """A ticket Ivan opened by mail and an answer we sent on it."""
    ticket = mail_ingest(
        raw=message(subject="Backups", body="The nightly backup failed."),
        received_at=AT,
        transport=Transport.PIPE,
    ).ticket
    assert ticket is not None
    ticket_services.ticket_reply(ticket=ticket, author=world.agent, body="Looking into it.")
    ours = ThreadId.objects.get(ticket=ticket, is_ours=True).value
    return ticket, ours


def _texts(inbound: InboundMail) -> str:
    ticket = inbound.ticket
    parts = [inbound.full_text]
    if inbound.ticket_message is not None:
        parts.append(inbound.ticket_message.body)
    elif ticket is not None:
        parts.append(ticket.description)
    return "\n".join(parts)


@pytest.mark.parametrize("sample", corpus.SAMPLES, ids=lambda sample: sample.name)
def test_each_message_lands_where_it_should(world, sample):
    with time_machine.travel(AT, tick=False):
        target, ours = _thread_target(world) if sample.thread else (None, None)
        raw = corpus.load(sample.name, ticket=target.pk if target else None, our_message_id=ours)

        inbound = mail_ingest(raw=raw, received_at=AT, transport=Transport.PIPE)

    assert inbound.raw.size == len(raw)
    assert (
        inbound.state
        == {
            "ticket": InboundState.TICKET,
            "reply": InboundState.REPLY,
            "automated": InboundState.AUTOMATED,
            "unverified": InboundState.UNVERIFIED,
            "refused": InboundState.REFUSED,
        }[sample.expect]
    ), inbound.problem
    if sample.expect in ("ticket", "reply"):
        assert inbound.ticket is not None
        assert inbound.ticket.company.mail_alias == sample.company
        if sample.expect == "reply":
            assert inbound.ticket == target
            assert inbound.ticket_message.author == world.ivan
        else:
            assert inbound.ticket != target
        files = inbound.ticket.attachments.filter(message=inbound.ticket_message)
        assert [file.original_name for file in files] == list(sample.attachments)
    elif sample.expect == "automated":
        assert inbound.ticket == target
        if target is not None:
            assert inbound.ticket_message.is_automatic
        assert Ticket.objects.count() == (1 if target else 0)
    elif sample.expect == "unverified":
        assert inbound.ticket is None
        assert (inbound.company.mail_alias if inbound.company else None) == sample.company
    if sample.text:
        assert sample.text in _texts(inbound)


def test_replies_show_only_what_is_new(world):
    """The quoted history and signatures are trimmed for display, and kept on the e-mail."""
    with time_machine.travel(AT, tick=False):
        target, ours = _thread_target(world)
        for sample in corpus.SAMPLES:
            if sample.expect == "reply":
                raw = corpus.load(sample.name, ticket=target.pk, our_message_id=ours)
                mail_ingest(raw=raw, received_at=AT, transport=Transport.PIPE)

    replies = TicketMessage.objects.filter(ticket=target, author=world.ivan)
    quoted = [reply for reply in replies if reply.inbound_mail.get().full_text != reply.body]
    assert len(quoted) >= 4  # the phone, Bulgarian, Outlook and Gmail replies had history
    history = re.compile(
        r"(?m)^(?:(?:On|На) .*(?:wrote|написа):|-+ ?Original Message|Sent from my|> )"
    )
    for reply in replies:
        assert not history.search(reply.body), reply.inbound_mail.get().subject


def test_a_25_mb_message_is_refused_with_a_bounce_and_kept(world):
    raw = corpus.huge_message()

    with time_machine.travel(AT, tick=False):
        inbound = mail_ingest(raw=raw, received_at=AT, transport=Transport.IMAP)

    assert inbound.state == InboundState.REFUSED
    assert inbound.raw.size == len(raw)
    assert not Ticket.objects.exists()
    [bounce] = Email.objects.filter(topic="mail-bounce")
    assert bounce.to == "ivan@acme.example"
    assert "MB" in bounce.body
