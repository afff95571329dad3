"""Reads of the outbox that other apps' pages show."""

from __future__ import annotations

from django.db.models import QuerySet

from outbox.models import WebhookDelivery


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
