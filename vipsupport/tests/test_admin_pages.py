"""Every model registered in the admin renders its list, search, add and change pages."""

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from sla.services import sla_scan
from tickets import services as ticket_services
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "tickets", "sla", "scheduling"}
MODELS = [model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS]


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def populated():
    call_command("seed_demo")
    call_command("seed_demo_calls")
    customer = User.objects.get(email="customer@acme.example")
    agent = User.objects.get(email="agent@support.example")
    ticket = make_ticket(requester=customer, severity=1, at=datetime(2026, 1, 5, 8, tzinfo=UTC))
    ticket_services.ticket_add_note(ticket=ticket, author=agent, body="Looking into it.")
    ticket_services.ticket_assign(ticket=ticket, assignee=agent, actor=None)
    sla_scan(now=datetime(2026, 1, 6, tzinfo=UTC))


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_admin_page_renders(client, superuser, populated, model):
    client.force_login(superuser)
    info = (model._meta.app_label, model._meta.model_name)
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = superuser

    changelist = reverse("admin:{}_{}_changelist".format(*info))
    assert client.get(changelist).status_code == 200
    assert client.get(changelist, {"q": "a"}).status_code == 200
    expected_add = 200 if model_admin.has_add_permission(request) else 403
    assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == expected_add
    obj = model.objects.first()
    assert obj is not None, f"no {model.__name__} row to open"
    change = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    assert client.get(change).status_code == 200
