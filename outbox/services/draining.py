"""Sending what is due, one claimed row at a time, for every kind of outbox row."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Protocol, TypeVar

from django.db import connection, models, transaction

from outbox.models import EmailState
from vipsupport.write_lock import sqlite_write_lock

BATCH_LIMIT = 500  # per run; the next run carries on


class _Row(Protocol):
    state: str


M = TypeVar("M", bound=models.Model)


def row_claim_due(model: type[M], *, now: datetime.datetime) -> M | None:
    """Lock the oldest pending row of `model` that is due, skipping rows another sender holds;
    None if none. Call inside the transaction that sends it."""
    sqlite_write_lock()  # SQLite has no SKIP LOCKED: two senders must not claim one row
    return (
        model._default_manager.select_for_update(skip_locked=True)
        .filter(state=EmailState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .first()
    )


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


def sender_run_after_commit(enqueue: Callable[[], object]) -> None:
    """Have `enqueue` (a sender task's `.delay`) run once when the transaction commits: one run
    per transaction is enough, it sends everything that is due."""
    if not any(entry[1] == enqueue for entry in connection.run_on_commit):
        transaction.on_commit(enqueue, robust=True)
