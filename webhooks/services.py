"""Every write of the webhooks app: endpoints, and the events written to the outbox."""

from __future__ import annotations

import datetime
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from outbox.models import WebhookDelivery
from outbox.services import webhooks_drop, webhooks_queue_bulk, webhooks_set_secret
from webhooks.models import SECRET_PREFIX, WebhookEndpoint, endpoint_topic
from webhooks.payloads import iso
from webhooks.selectors import Subscriber, webhook_subscribers


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_endpoint_create(
    *,
    company: Company | None,
    url: str,
    description: str,
    events: Sequence[str],
    created_by: User,
    now: datetime.datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (`company` None: desk-wide); returns it and its secret, which is
    shown to the person once."""
    secret = _new_secret()
    endpoint = WebhookEndpoint(
        company=company,
        url=url.strip(),
        description=description.strip(),
        events=list(events),
        secret=secret,
        created_by=created_by,
        created_at=now or timezone.now(),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, now: datetime.datetime | None = None
) -> None:
    """Remove an endpoint; its deliveries still waiting are dropped, its log stays in the outbox."""
    webhooks_drop(topics=[endpoint.topic], now=now or timezone.now())
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret (returned, to be shown once); deliveries still waiting
    are signed with it too, and the old one stops working at once."""
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret"])
    webhooks_set_secret(topic=endpoint.topic, secret=endpoint.secret)
    return endpoint.secret


@dataclass(frozen=True)
class WebhookEvent:
    """One thing that happened to one company, at its own moment."""

    company_id: int
    data: Mapping[str, Any]
    at: datetime.datetime


def webhook_event_emit(
    *, event_type: str, company_id: int, data: Mapping[str, Any], now: datetime.datetime
) -> list[WebhookDelivery]:
    """Write one delivery per active endpoint subscribed to `event_type` that hears this company
    (its own, and desk-wide ones). Call inside the transaction that made the change."""
    return webhook_events_emit(
        event_type=event_type,
        events=[WebhookEvent(company_id=company_id, data=data, at=now)],
        now=now,
    )


def webhook_events_emit(
    *,
    event_type: str,
    events: Sequence[WebhookEvent],
    now: datetime.datetime,
    subscribers: Sequence[Subscriber] | None = None,
) -> list[WebhookDelivery]:
    """Many events of one type (a scan's batch) in one INSERT: one query for the subscribers
    (unless given) and one for the rows; none when nobody listens."""
    if not events:
        return []
    if subscribers is None:
        subscribers = webhook_subscribers(
            event_type=event_type, company_ids={event.company_id for event in events}
        )
    deliveries: list[WebhookDelivery] = []
    for event in events:
        listening = [each for each in subscribers if each.receives(event.company_id)]
        if not listening:
            continue
        event_id = uuid.uuid4()
        body = webhook_body(
            event_id=event_id,
            event_type=event_type,
            company_id=event.company_id,
            data=event.data,
            at=event.at,
        )
        deliveries.extend(
            WebhookDelivery(
                url=subscriber.url,
                secret=subscriber.secret,
                topic=endpoint_topic(subscriber.endpoint_id),
                event_id=event_id,
                event_type=event_type,
                body=body,
            )
            for subscriber in listening
        )
    if not deliveries:
        return []
    return webhooks_queue_bulk(deliveries=deliveries, now=now)


def webhook_body(
    *,
    event_id: uuid.UUID,
    event_type: str,
    company_id: int,
    data: Mapping[str, Any],
    at: datetime.datetime,
) -> str:
    """The exact JSON text sent (and signed): compact, keys sorted, UTF-8."""
    envelope = {
        "id": str(event_id),
        "type": event_type,
        "created_at": iso(at),
        "company_id": company_id,
        "data": data,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
