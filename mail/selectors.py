"""Reads the staff mail pages share: the inbox, one message, and which messages a ticket got by
mail."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Company
from mail.models import NEEDS_AGENT_STATES, InboundMail, InboundState

RECENT_LIMIT = 50
# A flood of unknown senders must not make the page unusable; the oldest are shown first.
WAITING_LIMIT = 200


@dataclass(frozen=True)
class Inbox:
    needing_agent: list[InboundMail]  # oldest first: the longest waiting at the top
    recent: list[InboundMail]  # the latest others, newest first


def _listed() -> QuerySet[InboundMail]:
    """Rows for a list: their company and ticket joined, the long texts left in the database."""
    return InboundMail.objects.select_related("company", "ticket").defer("full_text", "html")


def mail_inbox(*, recent: int = RECENT_LIMIT) -> Inbox:
    """Every e-mail an agent still has to decide on, then the latest `recent` others: two queries
    whatever the numbers."""
    return Inbox(
        needing_agent=list(
            _listed()
            .filter(state__in=NEEDS_AGENT_STATES)
            .order_by("received_at", "pk")[:WAITING_LIMIT]
        ),
        recent=list(
            _listed().exclude(state__in=NEEDS_AGENT_STATES).order_by("-received_at", "-pk")[:recent]
        ),
    )


def mail_needing_agent_count() -> int:
    """How many e-mails wait for an agent (one count on the open-mail index)."""
    return InboundMail.objects.filter(state__in=NEEDS_AGENT_STATES).count()


def inbound_for_staff(*, pk: int) -> InboundMail | None:
    """One received e-mail with what the detail page shows beside it."""
    return (
        InboundMail.objects.select_related("company", "ticket", "ticket_message", "decided_by")
        .filter(pk=pk)
        .first()
    )


def ticket_mail_originals(*, ticket_id: int) -> dict[int | None, int]:
    """The e-mails a ticket's conversation came from, in one query: the ticket message's id (None
    for the description, which the opening e-mail became) → the received e-mail's id."""
    rows = (
        InboundMail.objects.filter(ticket_id=ticket_id)
        .filter(Q(ticket_message__isnull=False) | Q(state=InboundState.TICKET))
        .order_by("received_at", "pk")
        .values_list("ticket_message_id", "pk")
    )
    originals: dict[int | None, int] = {}
    for message_id, inbound_id in rows:
        originals.setdefault(message_id, inbound_id)
    return originals


def companies_for_choice() -> list[tuple[int, str]]:
    """Every company as plain (id, name) pairs, for a long select list."""
    return list(Company.objects.order_by("name").values_list("pk", "name"))
