"""The e-mail conversation end to end, with real peers: the customer's mail client (smtplib) sends
to our SMTP receiver, the agent answers in Chromium, the outbox delivers the answer over SMTP to
the customer's mail server (an aiosmtpd sink), and the customer's reply to it lands on the ticket.

Screenshots go to test-artifacts/mail-NN-*.png (not committed).
"""

import email
import email.policy
import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from mail.models import InboundMail, InboundState
from mail.smtp import smtp_controller
from mail.tests.factories import mail_world, message
from mail.tests.test_transports import free_port
from outbox.models import Email, EmailState
from outbox.services import emails_send_pending
from tickets.models import TicketMessage
from vipsupport.testing import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Mailbox:
    """The customer's mail server: keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def servers(settings):
    receiver = smtp_controller(host="127.0.0.1", port=free_port())
    mailbox = Mailbox()
    customer_server = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    receiver.start()
    customer_server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", customer_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield receiver, mailbox
    receiver.stop()
    customer_server.stop()


def test_agent_reply_goes_out_by_mail_and_the_answer_lands_on_the_ticket(
    live_server, new_page, servers
):
    receiver, mailbox = servers
    world = mail_world(at=timezone.now())
    base = live_server.url

    # 1. Ivan writes to Acme's dedicated address from his mail client.
    with smtplib.SMTP(receiver.hostname, receiver.port) as client:
        client.sendmail(
            "ivan@acme.example",
            ["acme@vip.support.example"],
            message(
                subject="Shared calendar is empty", body="Since this morning it shows nothing."
            ),
        )
    ticket = InboundMail.objects.get().ticket
    assert ticket is not None
    assert ticket.assignee == world.agent

    # 2. Maria, his dedicated agent, answers in the workspace.
    page = new_page()
    log_in(page, base, world.agent.email)
    page.goto(f"{base}/queue/tickets/{ticket.pk}/")
    screenshot(page, "mail-01-workspace-mail-ticket")
    answer = "We re-synced the calendar. Does it show your events again?"
    page.fill("#reply-body", answer)
    page.locator("form:has(#reply-body) button[type=submit].primary").click()
    page.locator("article.message.public.staff", has_text=answer).wait_for()

    # 3. The outbox delivers it over SMTP to Ivan's mail server, threaded. (On a day the desk
    # is closed his first mail was acknowledged too: that is the other e-mail, if any.)
    emails_send_pending()
    assert Email.objects.get(topic__startswith="ticket-reply:").state == EmailState.SENT
    received = [
        email.message_from_bytes(raw, policy=email.policy.default) for raw in mailbox.messages
    ]
    [delivered] = [mail for mail in received if mail["Subject"].startswith("Re: Shared calendar")]
    assert f"[#{ticket.pk}]" in delivered["Subject"]
    assert delivered["In-Reply-To"] == InboundMail.objects.get().message_id
    assert delivered["Reply-To"] == "acme@vip.support.example"
    assert answer in delivered.get_body(("plain",)).get_content()

    # 4. Ivan answers it; his client keeps the thread headers (and shortens the subject).
    reply = EmailMessage()
    reply["From"] = "Ivan Petrov <ivan@acme.example>"
    reply["To"] = delivered["Reply-To"]
    reply["Subject"] = "Re: calendar"
    reply["Message-ID"] = "<ivan-answer@mail.acme.example>"
    reply["In-Reply-To"] = delivered["Message-ID"]
    reply["References"] = f"{delivered['References']} {delivered['Message-ID']}"
    reply.set_content(f"Yes, all events are back. Thanks!\n\nOn Monday, Maria wrote:\n> {answer}\n")
    with smtplib.SMTP(receiver.hostname, receiver.port) as client:
        client.send_message(reply)

    inbound = InboundMail.objects.get(message_id="<ivan-answer@mail.acme.example>")
    assert inbound.state == InboundState.REPLY
    assert inbound.ticket == ticket
    assert TicketMessage.objects.get(ticket=ticket, author=world.ivan).body == (
        "Yes, all events are back. Thanks!"
    )

    # 5. Maria sees it in the same ticket.
    page.reload()
    assert page.locator("article.message", has_text="Yes, all events are back.").is_visible()
    screenshot(page, "mail-02-customer-mail-reply-in-workspace")
