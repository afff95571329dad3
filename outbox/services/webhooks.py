"""Write webhook deliveries in the deciding transaction; POST them afterwards, one at a time.

Whoever decides an event (the webhooks app, on a ticket's or a call's change) renders its JSON
and calls `webhook_queue` inside that transaction, so a rolled-back change sends nothing.
`webhook_send_one` claims the oldest due row with `SELECT … FOR UPDATE SKIP LOCKED` (on SQLite,
behind the write lock) and POSTs it through the guarded `vipsupport.fetch.post`: no private
addresses unless `WEBHOOKS_ALLOW_PRIVATE_HOSTS`, no redirects, one deadline.

Each attempt is signed afresh: `X-VIP-Signature: v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`
with `X-VIP-Timestamp: <ts>`, so receivers can refuse old timestamps. A 2xx answer is delivered;
anything else is retried after 1, 2, 4 … minutes (at most `MAX_BACKOFF`) until `max_attempts`.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from outbox.models import WEBHOOK_MAX_ATTEMPTS, EmailState, WebhookDelivery
from outbox.services.draining import row_claim_due, rows_send_pending, sender_run_after_commit
from vipsupport import fetch

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF = datetime.timedelta(hours=1)
USER_AGENT = "VIP-Support-Webhooks/1.0"
ATTEMPT_LOG_LENGTH = 50  # the log keeps the latest attempts; max_attempts is far below this


def webhook_queue(
    *,
    url: str,
    body: str,
    secret: str,
    event_id: uuid.UUID,
    event_type: str,
    topic: str,
    now: datetime.datetime,
    max_attempts: int = WEBHOOK_MAX_ATTEMPTS,
) -> WebhookDelivery:
    """Store one delivery, due at `now`, and have the sender run once the transaction commits.
    Call inside the transaction that decided the event."""
    [delivery] = webhooks_queue_bulk(
        deliveries=[
            WebhookDelivery(
                url=url,
                body=body,
                secret=secret,
                event_id=event_id,
                event_type=event_type,
                topic=topic,
                max_attempts=max_attempts,
            )
        ],
        now=now,
    )
    return delivery


def webhooks_queue_bulk(
    *, deliveries: list[WebhookDelivery], now: datetime.datetime
) -> list[WebhookDelivery]:
    """Store many unsaved deliveries in one INSERT (a scan's batch), due at `now`."""
    for delivery in deliveries:
        delivery.next_attempt_at = now
        delivery.created_at = now
        delivery.full_clean()
    created = WebhookDelivery.objects.bulk_create(deliveries)
    if created:
        _send_after_commit()
    return created


def webhooks_drop(*, topics: Iterable[str], now: datetime.datetime) -> int:
    """Drop the pending deliveries of these topics (their endpoint is gone)."""
    return WebhookDelivery.objects.filter(topic__in=list(topics), state=EmailState.PENDING).update(
        state=EmailState.DROPPED, done_at=now
    )


def webhooks_set_secret(*, topic: str, secret: str) -> int:
    """Sign the pending deliveries of `topic` with a new secret (the endpoint's was rotated)."""
    return WebhookDelivery.objects.filter(topic=topic, state=EmailState.PENDING).update(
        secret=secret
    )


def webhooks_send_pending(*, now: datetime.datetime | None = None) -> int:
    """POST the deliveries that are due (up to `BATCH_LIMIT`); returns how many were delivered."""
    return rows_send_pending(webhook_send_one, now=now)


@transaction.atomic
def webhook_send_one(*, now: datetime.datetime | None = None) -> WebhookDelivery | None:
    """Claim the oldest due delivery and POST it, or schedule its retry; None if none is due."""
    now = now or timezone.now()
    delivery = row_claim_due(WebhookDelivery, now=now)
    if delivery is None:
        return None
    timestamp = int(now.timestamp())
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        answer = fetch.post(
            delivery.url,
            data=delivery.body.encode(),
            headers=webhook_headers(delivery, timestamp=timestamp),
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS,
        )
        status = answer.status
    except fetch.FetchError as failure:  # refused, timed out, non-2xx, redirected: retried
        status = failure.status
        error = str(failure)[:1000]
        logger.warning("Webhook delivery %s to %s failed: %s", delivery.pk, delivery.url, error)
    ms = round((time.monotonic() - started) * 1000)
    entry: dict[str, Any] = {"at": now.isoformat(), "status": status, "error": error, "ms": ms}
    delivery.attempt_log = [*delivery.attempt_log, entry][-ATTEMPT_LOG_LENGTH:]
    delivery.last_status_code = status
    delivery.last_error = error
    if not error:
        delivery.state = EmailState.SENT
        delivery.done_at = now
    else:
        delivery.attempts += 1
        if delivery.attempts >= delivery.max_attempts:
            delivery.state = EmailState.FAILED
            delivery.done_at = now
        else:
            delivery.next_attempt_at = now + webhook_retry_delay(attempts=delivery.attempts)
    delivery.save(
        update_fields=[
            "state",
            "attempts",
            "attempt_log",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "done_at",
        ]
    )
    return delivery


def webhook_retry_delay(*, attempts: int) -> datetime.timedelta:
    """How long after its `attempts`-th failure a delivery is tried again: 1, 2, 4 … minutes."""
    return min(datetime.timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


def webhook_signature(*, secret: str, timestamp: int, body: str) -> str:
    """`v1=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def webhook_headers(delivery: WebhookDelivery, *, timestamp: int) -> dict[str, str]:
    """The headers of one attempt, signed for its own moment."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-VIP-Event": delivery.event_type,
        "X-VIP-Delivery": str(delivery.event_id),
        "X-VIP-Timestamp": str(timestamp),
        "X-VIP-Signature": webhook_signature(
            secret=delivery.secret, timestamp=timestamp, body=delivery.body
        ),
    }


def _send_after_commit() -> None:
    from outbox.tasks import send_pending_webhooks

    sender_run_after_commit(send_pending_webhooks.delay)
