"""Test data for webhooks: endpoints are made through `webhook_endpoint_create`, like the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import factory
from django.contrib.auth.models import Group

from accounts.models import ADMINISTRATORS_GROUP, Company, User
from accounts.tests.factories import UserFactory
from webhooks import services
from webhooks.models import EventType, WebhookEndpoint

ALL_EVENTS: tuple[str, ...] = tuple(EventType.values)


class WebhookEndpointFactory(factory.Factory[WebhookEndpoint]):
    """`WebhookEndpointFactory(company=…, url=…)`; the new secret is on `endpoint.secret`."""

    class Meta:
        model = WebhookEndpoint

    company: Any = None
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/vip")
    description = "Our monitoring"
    events: Any = factory.LazyFunction(lambda: list(ALL_EVENTS))
    created_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[WebhookEndpoint], *args: Any, **kwargs: Any) -> Any:
        endpoint, _secret = services.webhook_endpoint_create(**kwargs)
        return endpoint

    @classmethod
    def _build(cls, model_class: type[WebhookEndpoint], *args: Any, **kwargs: Any) -> Any:
        return model_class(**kwargs)


def endpoint(
    *, company: Company | None, url: str, events: Sequence[str] = ALL_EVENTS, **kwargs: Any
) -> WebhookEndpoint:
    made: WebhookEndpoint = WebhookEndpointFactory(  # type: ignore[assignment]
        company=company, url=url, events=list(events), **kwargs
    )
    return made


def desk_admin(email: str = "admin@support.example") -> User:
    """A staff user in the Administrators group (the admin role)."""
    user: User = UserFactory(email=email)  # type: ignore[assignment]
    user.groups.add(Group.objects.get(name=ADMINISTRATORS_GROUP))
    return user
