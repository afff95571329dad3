"""The webhooks page: who may use it, the secret shown once, bad input, and no way into another
company's endpoints."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from outbox.models import EmailState, WebhookDelivery
from tickets.tests.factories import make_ticket
from webhooks.models import WebhookEndpoint
from webhooks.tests.factories import desk_admin, endpoint

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)
LIST = reverse("webhooks:list")


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(MONDAY_0900, tick=True):
        yield


@pytest.fixture
def ann():
    return CustomerFactory(company=vip_company(name="Acme Ltd"), email="ann@acme.example")


@pytest.fixture
def globex_hook():
    return endpoint(company=vip_company(name="Globex"), url="https://hooks.globex.example/vip")


def create(client, **data):
    data = {"url": "https://hooks.acme.example/vip", "events": ["ticket.created"], **data}
    return client.post(LIST, data)


def test_a_vip_customer_adds_an_endpoint_and_sees_its_secret_once(client_for, ann):
    client = client_for(ann)

    created = create(client, description="Monitoring", events=["ticket.created", "booking.moved"])

    hook = WebhookEndpoint.objects.get()
    assert created.status_code == 302
    assert created["Location"] == reverse("webhooks:secret", args=[hook.pk])
    response = client.get(created["Location"])
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert (hook.company, hook.created_by, hook.events) == (
        ann.company,
        ann,
        ["booking.moved", "ticket.created"],
    )
    assert hook.secret.startswith("whsec_")
    assert len(hook.secret) > 40
    assert hook.secret in response.content.decode()
    # Nowhere else: not in the session, not on a reload, not on the endpoint's page or the list.
    assert hook.secret not in str(dict(client.session.items()))
    reloaded = client.get(created["Location"])
    assert reloaded.status_code == 302
    assert hook.secret not in client.get(reloaded["Location"]).content.decode()
    assert WebhookEndpoint.objects.count() == 1
    assert (
        hook.secret not in client.get(reverse("webhooks:detail", args=[hook.pk])).content.decode()
    )
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert hook.secret not in listed.content.decode()
    assert "https://hooks.acme.example/vip" in listed.content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.acme.example/vip", "Enter a valid URL."),
        ("not a url", "Enter a valid URL."),
        ("http://hooks.acme.example/vip", "Use an https:// address."),
        ("https://127.0.0.1/vip", "private network"),
        ("https://[fd00::1]/vip", "private network"),
        ("https://localhost/vip", "private network"),
        ("https://hooks.acme.example/" + "a" * 2000, "at most 2000 characters"),
    ],
)
def test_a_bad_url_is_refused_on_the_form_with_the_input_kept(
    client_for, ann, settings, url, message
):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False

    response = create(client_for(ann), url=url, description="Kept text")

    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert 'value="Kept text"' in content
    assert not WebhookEndpoint.objects.exists()


def test_no_event_chosen_is_refused(client_for, ann):
    response = create(client_for(ann), events=[])

    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()


def test_an_unknown_event_is_refused(client_for, ann):
    response = create(client_for(ann), events=["ticket.deleted"])

    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_another_companys_endpoint_is_not_found_on_every_route(client_for, ann, globex_hook):
    client = client_for(ann)

    assert client.get(reverse("webhooks:detail", args=[globex_hook.pk])).status_code == 404
    assert client.post(reverse("webhooks:delete", args=[globex_hook.pk])).status_code == 404
    assert client.post(reverse("webhooks:rotate", args=[globex_hook.pk])).status_code == 404
    assert client.get(reverse("webhooks:detail", args=[2**63])).status_code == 404
    assert "hooks.globex.example" not in client.get(LIST).content.decode()
    globex_hook.refresh_from_db()  # neither deleted nor given a new secret
    assert globex_hook.secret == WebhookEndpoint.objects.get(pk=globex_hook.pk).secret


def test_a_customer_without_the_add_on_is_told_why(client_for):
    basic = CustomerFactory(email="basic@globex.example")

    response = client_for(basic).get(LIST)

    assert response.status_code == 403
    assert "dedicated-agent add-on" in response.content.decode()
    assert create(client_for(basic)).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_agents_may_not_and_visitors_must_log_in(client, client_for):
    assert client.get(LIST).status_code == 302
    refused = client_for(AgentFactory()).get(LIST)
    assert refused.status_code == 403
    assert "You may not open this page." in refused.content.decode()


def test_an_admin_adds_desk_wide_endpoints_and_sees_every_one(client_for, globex_hook):
    client = client_for(desk_admin())

    response = create(client, url="https://desk.example.com/all")

    assert response.status_code == 302
    desk_hook = WebhookEndpoint.objects.get(url="https://desk.example.com/all")
    assert desk_hook.company is None
    listed = client.get(LIST).content.decode()
    assert "hooks.globex.example" in listed
    assert "Desk-wide (every company)" in listed
    assert client.get(reverse("webhooks:detail", args=[globex_hook.pk])).status_code == 200


def test_the_endpoint_page_lists_its_latest_deliveries(client_for, ann):
    hook = endpoint(company=ann.company, url="https://hooks.acme.example/vip")
    for _ in range(22):
        make_ticket(requester=ann)

    response = client_for(ann).get(reverse("webhooks:detail", args=[hook.pk]))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="delivery"') == 20
    assert "ticket.created" in response.content.decode()


def test_deleting_an_endpoint_drops_what_it_still_had_to_receive(client_for, ann):
    hook = endpoint(company=ann.company, url="https://hooks.acme.example/vip")
    make_ticket(requester=ann)

    response = client_for(ann).post(reverse("webhooks:delete", args=[hook.pk]))

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert WebhookDelivery.objects.get().state == EmailState.DROPPED


def test_a_new_secret_is_shown_once_and_signs_what_waits(client_for, ann):
    hook = endpoint(company=ann.company, url="https://hooks.acme.example/vip")
    old = hook.secret
    make_ticket(requester=ann)

    client = client_for(ann)
    response = client.post(reverse("webhooks:rotate", args=[hook.pk]), follow=True)

    hook.refresh_from_db()
    assert hook.secret != old
    assert hook.secret in response.content.decode()
    assert "The old secret no longer signs anything" in response.content.decode()
    assert (
        hook.secret
        not in client.get(reverse("webhooks:secret", args=[hook.pk]), follow=True).content.decode()
    )
    assert WebhookDelivery.objects.get().secret == hook.secret


def test_the_profile_links_the_page_for_vip_customers_only(client_for, ann):
    assert LIST in client_for(ann).get(reverse("accounts:profile")).content.decode()
    basic = CustomerFactory(email="basic@globex.example")
    assert LIST not in client_for(basic).get(reverse("accounts:profile")).content.decode()


def test_the_page_speaks_bulgarian(client_for, ann):
    ann.preferred_language = "bg"
    ann.save()

    response = client_for(ann).get(LIST)

    assert "Уебхукове" in response.content.decode()
