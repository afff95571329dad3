"""The batch path (`mails_ingest`): the same results as one message at a time, once per
Message-ID within and across batches, a failing message that loses none of the others, and a
number of queries that does not grow with the batch."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mail import services
from mail.models import InboundMail, InboundState, ThreadId, Transport
from mail.services import Delivery, mail_ingest, mails_ingest, mails_process
from mail.tests import corpus
from mail.tests.factories import mail_world, message
from outbox.models import Email
from sla.models import SlaTarget
from tickets import services as ticket_services
from tickets.models import Notification, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# A Tuesday morning: the desk is open.
AT = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
# Friday 18:30 Berlin: closed, so each new ticket is acknowledged.
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def world():
    with time_machine.travel(AT, tick=False):
        yield mail_world(at=AT)


def batch(*raws: bytes, at: datetime.datetime = AT) -> list[InboundMail]:
    with time_machine.travel(at, tick=False):
        return mails_ingest(
            deliveries=[Delivery(raw=raw, received_at=at, transport=Transport.IMAP) for raw in raws]
        )


def one(raw: bytes, at: datetime.datetime = AT) -> InboundMail:
    with time_machine.travel(at, tick=False):
        return mail_ingest(raw=raw, received_at=at, transport=Transport.IMAP)


def _with_id(raw: bytes, message_id: str) -> bytes:
    return f"Message-ID: <{message_id}>\r\n".encode() + raw


def _outcome(inbound: InboundMail, *, target: Ticket) -> tuple[object, ...]:
    """What a message made, without the ids that differ between two copies of it."""
    inbound.refresh_from_db()
    ticket = inbound.ticket
    if ticket is None:
        return (inbound.state, inbound.company_id, inbound.recipient, inbound.problem)
    ticket.refresh_from_db()
    message = inbound.ticket_message
    return (
        inbound.state,
        inbound.company_id,
        inbound.recipient,
        "target" if ticket == target else "new",
        ticket.subject,
        ticket.description,
        ticket.severity,
        ticket.assignee_id,
        ticket.status,
        sorted(user.pk for user in ticket.cc.all()),
        sorted(attachment.original_name for attachment in ticket.attachments.all())
        if ticket != target
        else None,
        (ticket.sla_clock_started_at, ticket.sla_due_at, ticket.sla_warn_at),
        sorted(
            (row.kind, row.severity, row.due_at, row.warn_at, row.assignee_id)
            for row in SlaTarget.objects.filter(ticket=ticket)
        )
        if ticket != target
        else None,
        sorted(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
        if ticket != target
        else None,
        sorted(Notification.objects.filter(ticket=ticket).values_list("kind", "recipient_id"))
        if ticket != target
        else None,
        (message.body, message.visibility, message.is_automatic) if message else None,
    )


def test_a_batch_makes_what_one_message_at_a_time_makes(world):
    with time_machine.travel(AT, tick=False):
        target = one(message(subject="Backups", body="The nightly backup failed.")).ticket
        assert target is not None
        ticket_services.ticket_reply(ticket=target, author=world.agent, body="Looking into it.")
        ours = ThreadId.objects.get(ticket=target, is_ours=True).value
    raws = [
        corpus.load(sample.name, ticket=target.pk, our_message_id=ours) for sample in corpus.SAMPLES
    ]

    singly = [one(_with_id(raw, f"single-{n}@bench.example")) for n, raw in enumerate(raws)]
    together = batch(*(_with_id(raw, f"batch-{n}@bench.example") for n, raw in enumerate(raws)))

    assert len(together) == len(singly) == len(corpus.SAMPLES)
    for sample, alone, batched in zip(corpus.SAMPLES, singly, together, strict=True):
        assert _outcome(batched, target=target) == _outcome(alone, target=target), sample.name
    assert {row.state for row in together} >= {
        InboundState.TICKET,
        InboundState.REPLY,
        InboundState.AUTOMATED,
        InboundState.UNVERIFIED,
    }


def test_a_repeated_message_makes_nothing_twice_within_and_across_batches(world):
    first = message(message_id="<first@acme.example>", subject="Printer")
    second = message(message_id="<second@acme.example>", subject="Scanner")

    rows = batch(first, first, second)

    assert rows[0].pk == rows[1].pk != rows[2].pk
    assert [row.state for row in rows] == [InboundState.TICKET] * 3
    assert Ticket.objects.count() == 2

    again = batch(second, message(message_id="<third@acme.example>"), first)

    assert [row.pk for row in again][::2] == [rows[2].pk, rows[0].pk]
    assert InboundMail.objects.count() == 3
    assert Ticket.objects.count() == 3
    assert one(first).pk == rows[0].pk
    assert Ticket.objects.count() == 3


def test_an_answer_to_a_message_of_the_same_batch_lands_on_its_ticket(world):
    opening = message(message_id="<opening@acme.example>", subject="VPN")
    answer = message(
        message_id="<answer@acme.example>",
        subject="Re: VPN",
        body="It dropped again.",
        in_reply_to="<opening@acme.example>",
    )

    opened, answered = batch(opening, answer)

    assert opened.state == InboundState.TICKET
    assert answered.state == InboundState.REPLY
    assert answered.ticket == opened.ticket
    assert answered.ticket_message.body == "It dropped again."


def test_a_failing_message_is_flagged_and_the_others_are_acted_on(world, monkeypatch):
    real_parse = services.mail_parse

    def parse(raw: bytes):
        if b"poison" in raw:
            raise RuntimeError("cannot cope")
        return real_parse(raw)

    monkeypatch.setattr(services, "mail_parse", parse)

    good, bad, also_good = batch(
        message(subject="Printer"), message(subject="poison"), message(subject="Scanner")
    )

    assert good.state == also_good.state == InboundState.TICKET
    assert bad.state == InboundState.UNREADABLE
    assert "cannot cope" in bad.problem
    assert bad.ticket is None
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Printer", "Scanner"]
    assert InboundMail.objects.get(pk=bad.pk).state == InboundState.UNREADABLE


def test_out_of_hours_each_new_ticket_of_a_batch_is_acknowledged(world):
    rows = batch(
        message(subject="Printer"),
        message(sender="anna@acme.example", subject="Scanner"),
        at=FRIDAY_EVENING,
    )

    assert [row.state for row in rows] == [InboundState.TICKET] * 2
    assert sorted(Email.objects.values_list("to", flat=True)) == [
        "anna@acme.example",
        "ivan@acme.example",
    ]


def test_the_waiting_backlog_is_acted_on_as_one_batch(world):
    with time_machine.travel(AT, tick=False):
        ids = []
        for number in range(3):
            raw = message(subject=f"Stored only {number}")
            ids.append(
                services._stored([Delivery(raw=raw, received_at=AT, transport=Transport.PIPE)])[0][
                    0
                ].pk
            )

        rows = mails_process(inbound_ids=ids, now=AT)

    assert [row.state for row in rows] == [InboundState.TICKET] * 3


@pytest.mark.parametrize("size", [1, 10, 40])
def test_a_batch_costs_the_same_number_of_queries_whatever_its_size(
    world, size, django_assert_max_num_queries
):
    raws = [
        message(
            sender="anna@acme.example" if number % 2 else "ivan@acme.example",
            to="acme@vip.support.example" if number % 3 else "support@support.example",
            cc="anna@acme.example" if number % 4 == 0 else None,
            subject=f"Problem {number}",
        )
        for number in range(size)
    ]

    with django_assert_max_num_queries(30):
        rows = batch(*raws)

    assert [row.state for row in rows] == [InboundState.TICKET] * size
