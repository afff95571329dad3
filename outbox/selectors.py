"""Reads of the outbox that other apps' pages show."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from outbox.models import Email, EmailState, WebhookDelivery


def webhook_deliveries_latest(*, topic: str, limit: int = 20) -> QuerySet[WebhookDelivery]:
    """The latest deliveries of one topic (an endpoint), newest first; no body or secret."""
    return (
        WebhookDelivery.objects.filter(topic=topic)
        .order_by("-created_at", "-pk")
        .only(
            "event_id",
            "event_type",
            "state",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "done_at",
        )[:limit]
    )


@dataclass(frozen=True)
class OutboxBacklog:
    """Rows the sender should have sent by now, and rows it gave up on lately; each count stops
    at the cap it was read with."""

    emails_overdue: int
    webhooks_overdue: int
    emails_failed: int
    webhooks_failed: int


def outbox_backlog(
    *, overdue_before: datetime.datetime, failed_since: datetime.datetime, cap: int
) -> OutboxBacklog:
    """Pending rows due before `overdue_before` and rows failed since `failed_since`, counted up
    to `cap` each: four queries, each a bounded range of a partial index."""

    def count(rows: QuerySet[Email] | QuerySet[WebhookDelivery]) -> int:
        return rows.order_by()[:cap].count()

    return OutboxBacklog(
        emails_overdue=count(
            Email.objects.filter(state=EmailState.PENDING, next_attempt_at__lt=overdue_before)
        ),
        webhooks_overdue=count(
            WebhookDelivery.objects.filter(
                state=EmailState.PENDING, next_attempt_at__lt=overdue_before
            )
        ),
        emails_failed=count(
            Email.objects.filter(state=EmailState.FAILED, done_at__gte=failed_since)
        ),
        webhooks_failed=count(
            WebhookDelivery.objects.filter(state=EmailState.FAILED, done_at__gte=failed_since)
        ),
    )
