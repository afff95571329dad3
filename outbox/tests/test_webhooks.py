"""Webhook deliveries in the outbox, against a real receiver on 127.0.0.1: signed so the README's
recipe accepts them, retried with back-off, never into private networks when that is off."""

import datetime
import socket
import uuid

import pytest
import time_machine

from outbox import services
from outbox.models import WEBHOOK_MAX_ATTEMPTS, EmailState, WebhookDelivery
from outbox.services import webhooks as webhook_services
from webhooks.tests.receiver import Answer, readme_recipe, running_receiver

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 8, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)
SECRET = "whsec_test-secret"
BODY = '{"company_id":1,"data":{"ticket":{"id":7,"subject":"Ünïcode ✓"}},"type":"ticket.created"}'


@pytest.fixture
def clock():
    # Ticking: the receiver's thread and the sender's deadline need time to pass.
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def receiver(clock):
    with running_receiver(secret=SECRET) as running:
        yield running


def queue(url: str, **kwargs) -> WebhookDelivery:
    kwargs = {
        "body": BODY,
        "secret": SECRET,
        "event_id": uuid.UUID("5b0c6f3e-1b7a-4f55-9d3e-0a7c2b1d9e10"),
        "event_type": "ticket.created",
        "topic": "webhook-endpoint:1",
        "now": NOW,
        **kwargs,
    }
    return services.webhook_queue(url=url, **kwargs)


def send_due() -> int:
    """One sender run at the clock's moment, as the Celery task does it."""
    return services.webhooks_send_pending()


def test_a_delivery_is_signed_so_the_readme_recipe_accepts_it(receiver):
    queue(receiver.url("/hooks?from=vip"))

    assert send_due() == 1

    [seen] = receiver.deliveries
    assert seen.verified
    assert seen.path == "/hooks?from=vip"
    assert seen.body == BODY.encode()
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"] == "VIP-Support-Webhooks/1.0"
    assert seen.headers["X-VIP-Event"] == "ticket.created"
    assert seen.headers["X-VIP-Delivery"] == "5b0c6f3e-1b7a-4f55-9d3e-0a7c2b1d9e10"
    assert abs(int(seen.headers["X-VIP-Timestamp"]) - NOW.timestamp()) < 5
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        EmailState.SENT,
        0,
        200,
    )
    [attempt] = delivery.attempt_log
    assert (attempt["status"], attempt["error"]) == (200, "")
    assert attempt["ms"] >= 0


def test_the_recipe_refuses_a_wrong_secret_a_changed_body_and_a_stale_timestamp(clock):
    verify = readme_recipe()
    now = int(NOW.timestamp())

    def headers(timestamp: int, body: str = BODY, secret: str = SECRET) -> dict[str, str]:
        signature = services.webhook_signature(secret=secret, timestamp=timestamp, body=body)
        return {"X-VIP-Timestamp": str(timestamp), "X-VIP-Signature": signature}

    assert verify(SECRET, headers(now), BODY.encode())
    assert not verify(SECRET, headers(now, secret="whsec_other"), BODY.encode())
    assert not verify(SECRET, headers(now), BODY.replace("7", "8").encode())
    assert not verify(SECRET, headers(now - 6 * 60), BODY.encode())  # replayed 6 minutes on
    assert verify(SECRET, headers(now - 4 * 60), BODY.encode())
    assert not verify(SECRET, {"X-VIP-Timestamp": "¹²", "X-VIP-Signature": "v1=0"}, b"{}")


def test_a_500_is_retried_after_its_back_off_and_then_sent_once(receiver, clock):
    receiver.answers = [Answer(status=500)]
    queue(receiver.url())

    assert send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        EmailState.PENDING,
        1,
        500,
    )
    assert "500" in delivery.last_error
    tried_at = datetime.datetime.fromisoformat(delivery.attempt_log[0]["at"])
    assert delivery.next_attempt_at == tried_at + MINUTE

    clock.shift(30)  # half the back-off: not yet
    assert send_due() == 0
    assert len(receiver.deliveries) == 1

    clock.shift(31)
    assert send_due() == 1
    clock.shift(600)
    assert send_due() == 0  # sent once, never again

    first, second = receiver.deliveries
    assert first.verified
    assert second.verified
    # Signed afresh for its own moment, about the same event.
    assert int(second.headers["X-VIP-Timestamp"]) - int(first.headers["X-VIP-Timestamp"]) >= 60
    assert second.headers["X-VIP-Delivery"] == first.headers["X-VIP-Delivery"]
    assert second.body == first.body
    delivery.refresh_from_db()
    assert delivery.state == EmailState.SENT
    assert [attempt["status"] for attempt in delivery.attempt_log] == [500, 200]


def test_the_back_off_doubles_up_to_an_hour_and_gives_up_after_the_last_attempt(receiver, clock):
    receiver.answers = [Answer(status=503)] * WEBHOOK_MAX_ATTEMPTS
    queue(receiver.url())
    waits = []

    for _ in range(WEBHOOK_MAX_ATTEMPTS):
        before = datetime.datetime.now(datetime.UTC)
        send_due()
        delivery = WebhookDelivery.objects.get()
        if delivery.state != EmailState.PENDING:
            break
        waits.append(round((delivery.next_attempt_at - before).total_seconds() / 60))
        clock.move_to(delivery.next_attempt_at + datetime.timedelta(seconds=1))

    assert waits == [1, 2, 4, 8, 16, 32, 60]
    assert delivery.state == EmailState.FAILED
    assert delivery.attempts == WEBHOOK_MAX_ATTEMPTS
    assert len(delivery.attempt_log) == WEBHOOK_MAX_ATTEMPTS
    assert len(receiver.deliveries) == WEBHOOK_MAX_ATTEMPTS


def test_a_receiver_that_does_not_answer_in_time_is_retried(receiver, clock, monkeypatch):
    monkeypatch.setattr(webhook_services, "WEBHOOK_TIMEOUT_SECONDS", 0.5)
    receiver.answers = [Answer(delay=2)]
    queue(receiver.url())

    assert send_due() == 0

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        EmailState.PENDING,
        1,
        None,
    )
    assert "did not answer within 0.5 seconds" in delivery.last_error
    clock.shift(61)
    assert send_due() == 1


def test_a_refused_connection_is_retried(clock):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    queue(f"http://127.0.0.1:{port}/hooks")

    assert send_due() == 0

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (EmailState.PENDING, 1)
    assert "refused" in delivery.last_error
    assert delivery.attempt_log[0]["status"] is None


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver):
    receiver.answers = [Answer(status=307, location=receiver.url("/elsewhere"))]
    queue(receiver.url())

    assert send_due() == 0

    assert [seen.path for seen in receiver.deliveries] == ["/hooks"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == (EmailState.PENDING, 307)


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "[::1]", "localhost"])
def test_private_addresses_are_refused_and_logged_never_connected(receiver, settings, host):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    queue(receiver.url(host=host))

    assert send_due() == 0

    assert receiver.deliveries == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (EmailState.PENDING, 1)
    assert "private network" in delivery.last_error
    assert delivery.attempt_log[0]["error"] == delivery.last_error


def test_each_delivery_succeeds_or_fails_on_its_own(receiver):
    receiver.answers = [Answer(status=410)]
    failing = queue(receiver.url("/gone"))
    working = queue(receiver.url("/fine"), topic="webhook-endpoint:2")

    assert send_due() == 1

    failing.refresh_from_db()
    working.refresh_from_db()
    assert (failing.state, working.state) == (EmailState.PENDING, EmailState.SENT)


def test_dropped_deliveries_are_not_sent(receiver):
    queue(receiver.url())

    assert services.webhooks_drop(topics=["webhook-endpoint:1"], now=NOW) == 1

    assert send_due() == 0
    assert receiver.deliveries == []
    assert WebhookDelivery.objects.get().state == EmailState.DROPPED


def test_a_new_secret_signs_the_deliveries_still_waiting(receiver):
    queue(receiver.url())
    receiver.secret = "whsec_rotated"

    services.webhooks_set_secret(topic="webhook-endpoint:1", secret="whsec_rotated")
    send_due()

    assert [seen.verified for seen in receiver.deliveries] == [True]


def test_the_sender_runs_after_the_deciding_commit(django_capture_on_commit_callbacks, receiver):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue(receiver.url())
        queue(receiver.url(), topic="webhook-endpoint:2")

    # One run per transaction sends them all.
    assert len(callbacks) == 1
