"""How the SLA engine tells other apps that targets were warned or breached: `sla_targets_due`.

The scan sends it once per claimed batch, inside the batch's transaction, so a receiver writes
in that transaction (one bulk write for the batch, not one per ticket) or not at all.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.dispatch import Signal


class DueKind(enum.StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True)
class DueTarget:
    target_id: int
    ticket_id: int
    target_kind: str  # sla.models.TargetKind: first_response, follow_up, callback
    due_at: datetime.datetime
    at: datetime.datetime  # when the warning or breach happened (warn_at or due_at)


# Sent with sender=SlaTarget, kind=DueKind, targets=list[DueTarget] (the batch) and now=the
# scan's moment.
sla_targets_due = Signal()


def announce_due(*, kind: DueKind, targets: list[DueTarget], now: datetime.datetime) -> None:
    from sla.models import SlaTarget

    sla_targets_due.send(sender=SlaTarget, kind=kind, targets=targets, now=now)
