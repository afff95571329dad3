"""The SMTP receiver and the pipe, driven by real peers: Python's smtplib and a subprocess."""

import os
import smtplib
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from mail.models import InboundMail, InboundState, Transport
from mail.smtp import smtp_controller
from mail.tests.factories import mail_world, message
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
# The server and the pipe answer from other threads and processes: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings):
    settings.MAIL_MAX_BYTES = 200_000
    controller = smtp_controller(host="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def world():
    return mail_world(at=timezone.now())


class TestSmtpReceiver:
    def test_a_message_is_stored_before_the_server_answers(self, smtp_server, world):
        raw = message(message_id="<smtp-1@acme.example>")

        with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client:
            refused = client.sendmail("ivan@acme.example", ["acme@vip.support.example"], raw)

        assert refused == {}
        inbound = InboundMail.objects.get(message_id="<smtp-1@acme.example>")
        assert inbound.transport == Transport.SMTP
        assert inbound.state == InboundState.TICKET
        assert inbound.ticket.requester == world.ivan

    def test_a_repeated_delivery_opens_one_ticket(self, smtp_server, world):
        raw = message(message_id="<smtp-twice@acme.example>")

        for _ in range(2):
            with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client:
                client.sendmail("ivan@acme.example", ["acme@vip.support.example"], raw)

        assert Ticket.objects.filter(company=world.acme).count() == 1

    def test_mail_for_an_address_we_do_not_have_is_refused(self, smtp_server, world):
        with (
            smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client,
            pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
        ):
            client.sendmail("ivan@acme.example", ["nobody@vip.support.example"], message())

        assert refused.value.recipients["nobody@vip.support.example"][0] == 550
        assert not InboundMail.objects.exists()

    def test_a_message_over_the_limit_is_refused_with_a_clear_reply(self, smtp_server, world):
        raw = message(body="x" * 300_000)

        with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client:
            client.ehlo()
            assert client.has_extn("size")
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("ivan@acme.example", ["acme@vip.support.example"], raw)

        assert refused.value.smtp_code == 552
        assert b"exceeds fixed maximum message size" in refused.value.smtp_error
        assert not InboundMail.objects.exists()

    def test_a_bounce_with_a_null_sender_opens_nothing(self, smtp_server, world):
        with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as client:
            client.sendmail("<>", ["acme@vip.support.example"], message())

        inbound = InboundMail.objects.get()
        assert inbound.state == InboundState.AUTOMATED
        assert not Ticket.objects.exists()


def test_the_pipe_reads_one_message_from_stdin(world):
    # The command runs in its own process against the test database, as an MTA would run it.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vipsupport.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_email", "--sender", "ivan@acme.example"],
        input=message(message_id="<piped@acme.example>"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr.decode()
    assert b"<piped@acme.example>: Opened a ticket" in result.stdout
    inbound = InboundMail.objects.get(message_id="<piped@acme.example>")
    assert inbound.transport == Transport.PIPE


def _database_url(settings: dict) -> str:
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"
