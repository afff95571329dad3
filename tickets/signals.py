"""The one way tickets tell other apps about a change: the `ticket_changed` signal.

Services send it inside their transaction, after the ticket row is saved, so receivers (the SLA
engine) write in the same transaction and a failure rolls the whole change back.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.dispatch import Signal

if TYPE_CHECKING:
    from tickets.models import Ticket, TicketMessage


class ChangeKind(enum.StrEnum):
    CREATED = "created"
    STAFF_PUBLIC_REPLY = "staff_public_reply"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    ASSIGNED = "assigned"
    CALLED_BACK = "called_back"


@dataclass(frozen=True)
class TicketChange:
    kind: ChangeKind
    ticket: Ticket
    at: datetime.datetime
    previous_status: str | None = None
    previous_severity: int | None = None
    # The public reply a STAFF_PUBLIC_REPLY announces.
    message: TicketMessage | None = None


# Sent with sender=Ticket and change=TicketChange.
ticket_changed = Signal()


def announce(change: TicketChange) -> None:
    from tickets.models import Ticket

    ticket_changed.send(sender=Ticket, change=change)
