"""Reads of webhook endpoints: who listens to an event, and what a viewer may see."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import AddOn, AddOnSubscription, Role, User
from desk.selectors import desk_date
from outbox.models import WebhookDelivery
from outbox.selectors import webhook_deliveries_latest
from vipsupport.read_once import kept
from webhooks.models import WebhookEndpoint, endpoint_topic

RECENT_DELIVERIES = 20


@dataclass(frozen=True)
class Subscriber:
    """An active endpoint listening to an event, with what the outbox needs to deliver to it."""

    endpoint_id: int
    company_id: int | None  # None: desk-wide, every company's events
    url: str
    secret: str

    def receives(self, company_id: int) -> bool:
        """A company's endpoint hears only its own company; a desk-wide one hears every one."""
        return self.company_id is None or self.company_id == company_id


def webhook_subscribers(
    *,
    event_type: str,
    company_ids: Collection[int] | None = None,
    at: datetime.datetime | None = None,
) -> list[Subscriber]:
    """The active endpoints subscribed to `event_type` (of these companies, or desk-wide); one
    query. A company's endpoints hear it only while the company holds the dedicated-agent add-on
    (they are its feature). Events are matched here, not in SQL: SQLite cannot search JSON
    lists. A batch (`vipsupport.read_once`) reads each event's subscribers once."""
    key = (
        "webhooks",
        event_type,
        None if company_ids is None else frozenset(company_ids),
        desk_date(at),
    )
    return kept(key, lambda: _subscribers(event_type=event_type, company_ids=company_ids, at=at))


def _subscribers(
    *, event_type: str, company_ids: Collection[int] | None, at: datetime.datetime | None
) -> list[Subscriber]:
    holds_addon = AddOnSubscription.objects.filter(
        company_id=OuterRef("company_id"), addon__code=AddOn.DEDICATED_AGENT
    ).active_on(desk_date(at))
    endpoints = WebhookEndpoint.objects.filter(
        Q(company__isnull=True) | Exists(holds_addon), is_active=True
    )
    if company_ids is not None:
        endpoints = endpoints.filter(Q(company_id__in=company_ids) | Q(company__isnull=True))
    return [
        Subscriber(endpoint_id=pk, company_id=company_id, url=url, secret=secret)
        for pk, company_id, url, secret, events in endpoints.order_by("pk").values_list(
            "pk", "company_id", "url", "secret", "events"
        )
        if event_type in events
    ]


def webhook_endpoints_visible(*, user: User) -> QuerySet[WebhookEndpoint]:
    """The endpoints `user` manages: an admin every one, a customer their company's."""
    endpoints = WebhookEndpoint.objects.select_related("company", "created_by")
    if user.role == Role.ADMIN:
        return endpoints.order_by("company__name", "created_at", "pk")
    if user.role == Role.CUSTOMER and user.company_id is not None:
        return endpoints.filter(company_id=user.company_id).order_by("created_at", "pk")
    return endpoints.none()


def webhook_endpoint_deliveries(
    *, endpoint: WebhookEndpoint, limit: int = RECENT_DELIVERIES
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, from the outbox."""
    return list(webhook_deliveries_latest(topic=endpoint_topic(endpoint.pk), limit=limit))
