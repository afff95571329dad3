"""Sending what is due, one claimed row at a time, for every kind of outbox row."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Protocol

from outbox.models import EmailState

BATCH_LIMIT = 500  # per run; the next run carries on


class _Row(Protocol):
    state: str


def rows_send_pending(
    send_one: Callable[..., _Row | None], *, now: datetime.datetime | None = None
) -> int:
    """Call `send_one` (which claims and sends one due row) until nothing is due or
    `BATCH_LIMIT` rows are done; returns how many were sent."""
    sent = 0
    for _ in range(BATCH_LIMIT):
        row = send_one(now=now)
        if row is None:
            break
        sent += row.state == EmailState.SENT
    return sent
