"""The health endpoints: /health/ for the load balancer (database, cache), /health/full/ for the
on-call person (also the broker, the SLA scan's last run and the outbox), 200 or 503, never 500."""

import datetime
import socket
import uuid

import pytest
import time_machine
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox.models import Email, EmailState, WebhookDelivery
from outbox.services.emails import email_queue, emails_send_pending
from outbox.services.webhooks import webhook_queue, webhooks_send_pending
from sla.services import sla_scan

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 8, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scanned(frozen):
    """The SLA breach scan has just finished, as Beat's worker does every 30 seconds."""
    sla_scan()
    return frozen


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def queue_emails(count: int, *, due_at: datetime.datetime, **kwargs) -> None:
    for number in range(count):
        message = EmailMessage(subject="Hello", body="Hi", to=[f"person{number}@acme.example"])
        email_queue(message=message, now=due_at, **kwargs)


def queue_webhook(*, due_at: datetime.datetime, url: str = "https://hooks.example/in", **kwargs):
    return webhook_queue(
        url=url,
        body="{}",
        secret="whsec_test",
        event_id=uuid.uuid4(),
        event_type="ticket.created",
        topic="webhook-endpoint:1",
        now=due_at,
        **kwargs,
    )


def checks(response) -> dict[str, str]:
    return {name: check["status"] for name, check in response.json()["checks"].items()}


def test_the_load_balancer_page_checks_the_database_and_the_cache(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json()["status"] == "ok"
    assert checks(response) == {"database": "ok", "cache": "ok"}


def test_everything_working_is_200_on_the_full_page(client, scanned):
    response = client.get("/health/full/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert checks(response) == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "beat": "ok",
        "outbox": "ok",
    }
    assert body["checks"]["beat"]["message"] == "the SLA breach scan last finished 0 s ago"


def test_a_scan_older_than_two_minutes_is_503_naming_beat(client, scanned):
    scanned.shift(120)
    assert client.get("/health/full/").status_code == 200

    scanned.shift(1)
    response = client.get("/health/full/")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert checks(response)["beat"] == "error"
    assert [name for name, status in checks(response).items() if status != "ok"] == ["beat"]
    assert "last finished 121 s ago (limit 120 s)" in response.json()["checks"]["beat"]["message"]
    # The load balancer keeps the web server: it can still serve pages.
    assert client.get("/health/").status_code == 200


def test_a_scan_that_never_ran_is_503(client, frozen):
    response = client.get("/health/full/")

    assert response.status_code == 503
    assert "never finished" in response.json()["checks"]["beat"]["message"]


def test_the_scan_age_limit_is_a_setting(client, scanned, settings):
    settings.HEALTH_BEAT_MAX_AGE_SECONDS = 600
    scanned.shift(599)

    assert client.get("/health/full/").status_code == 200


def test_an_outbox_backlog_above_the_limit_is_503_naming_it(client, scanned, settings):
    settings.HEALTH_OUTBOX_MAX_OVERDUE = 2
    queue_emails(2, due_at=NOW - 6 * MINUTE)
    queue_emails(5, due_at=NOW - 4 * MINUTE)  # due, but not yet overdue
    assert client.get("/health/full/").status_code == 200

    queue_emails(1, due_at=NOW - 6 * MINUTE)
    response = client.get("/health/full/")

    assert response.status_code == 503
    assert [name for name, status in checks(response).items() if status != "ok"] == ["outbox"]
    assert response.json()["checks"]["outbox"]["message"].startswith(
        "3 e-mails and 0 webhook deliveries pending over 5 min after falling due (limit 2 each)"
    )


def test_overdue_webhook_deliveries_count_too_and_the_limits_are_settings(
    client, scanned, settings
):
    settings.HEALTH_OUTBOX_MAX_OVERDUE = 0
    settings.HEALTH_OUTBOX_OVERDUE_SECONDS = 60
    queue_webhook(due_at=NOW - 2 * MINUTE)

    response = client.get("/health/full/")

    assert response.status_code == 503
    assert response.json()["checks"]["outbox"]["message"].startswith(
        "0 e-mails and 1 webhook deliveries pending over 1 min after falling due (limit 0 each)"
    )


def test_failures_in_the_last_hour_are_a_warning_not_an_outage(client, scanned, settings):
    # An SMTP server and a webhook receiver that refuse connections; one attempt each.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    queue_emails(1, due_at=NOW - 59 * MINUTE, max_attempts=1)
    queue_webhook(
        due_at=NOW - 59 * MINUTE, url=f"http://127.0.0.1:{closed_port()}/", max_attempts=1
    )
    emails_send_pending(now=NOW - 59 * MINUTE)
    webhooks_send_pending(now=NOW - 59 * MINUTE)
    assert Email.objects.get().state == WebhookDelivery.objects.get().state == EmailState.FAILED

    response = client.get("/health/full/")

    assert response.status_code == 200
    assert response.json()["status"] == "warning"
    assert checks(response)["outbox"] == "warning"
    assert response.json()["checks"]["outbox"]["message"].startswith(
        "1 e-mails and 1 webhook deliveries failed in the last hour"
    )
    scanned.shift(2 * 60)  # an hour after they failed; the scan ran just before
    sla_scan()
    assert client.get("/health/full/").json()["status"] == "ok"


def test_a_cache_that_cannot_be_reached_is_503_naming_it(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://:cache-secret@127.0.0.1:{closed_port()}/0",
        }
    }

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert checks(response) == {"database": "ok", "cache": "error"}
    assert response.json()["checks"]["cache"]["message"] == "Connection Error"
    assert b"cache-secret" not in response.content


def test_a_broker_that_cannot_be_reached_fails_only_the_full_page(client, scanned, settings):
    settings.CELERY_BROKER_URL = f"redis://:broker-secret@127.0.0.1:{closed_port()}/0"

    response = client.get("/health/full/")

    assert response.status_code == 503
    assert [name for name, status in checks(response).items() if status != "ok"] == ["broker"]
    assert "Unable to connect to Redis" in response.json()["checks"]["broker"]["message"]
    assert b"broker-secret" not in response.content
    assert client.get("/health/").status_code == 200


def test_a_check_that_raises_is_503_without_the_reason_on_the_page(client, scanned, settings):
    # redis-py refuses the port while making the client: an exception no check expects.
    settings.CELERY_BROKER_URL = "redis://:broker-secret@127.0.0.1:not-a-port/0"

    response = client.get("/health/full/")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "status": "error",
        "message": "unexpected error (see the server log)",
        "seconds": response.json()["checks"]["broker"]["seconds"],
    }
    assert b"broker-secret" not in response.content


def test_the_filesystem_broker_of_make_run_is_checked_by_its_folders(
    client, scanned, settings, tmp_path
):
    folder = tmp_path / "broker"
    folder.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder),
    }
    assert checks(client.get("/health/full/"))["broker"] == "ok"

    folder.rmdir()
    response = client.get("/health/full/")

    assert response.status_code == 503
    assert checks(response)["broker"] == "error"


def test_a_probe_by_address_over_plain_http_needs_no_host_tls_or_sign_in(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["support.example.com"]

    assert client.get("/", HTTP_HOST="10.0.0.7").status_code == 400  # any other page: refused
    response = client.get("/health/", HTTP_HOST="10.0.0.7")

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert client.head("/health/full/", HTTP_HOST="10.0.0.7").status_code in {200, 503}
    assert client.post("/health/", HTTP_HOST="10.0.0.7").status_code == 405


def test_a_client_locked_out_of_signing_in_still_gets_the_health_page(client):
    for _ in range(10):
        client.post("/accounts/login/", {"username": "nobody@acme.example", "password": "wrong"})
    locked = client.post(
        "/accounts/login/", {"username": "nobody@acme.example", "password": "wrong"}
    )
    assert locked.status_code == 429

    assert client.get("/health/").status_code == 200


def test_the_checks_only_read_and_take_a_fixed_number_of_queries(
    client, scanned, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        assert client.get("/health/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/health/full/").status_code == 200

    queue_emails(40, due_at=NOW - 10 * MINUTE)
    for _ in range(40):
        queue_webhook(due_at=NOW - 10 * MINUTE)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/health/full/").status_code == 200

    assert len(queries.captured_queries) <= 6
    assert all(query["sql"].lstrip().upper().startswith("SELECT") for query in queries)
