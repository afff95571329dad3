"""Companies, customers and messages for the e-mail channel's tests."""

from __future__ import annotations

import datetime
import email.utils
import itertools
from dataclasses import dataclass
from email.message import EmailMessage

from accounts import services as account_services
from accounts.models import Company, User
from accounts.tests.factories import AgentFactory, CompanyFactory, CustomerFactory, vip_company

_numbers = itertools.count(1)


@dataclass(frozen=True)
class MailWorld:
    acme: Company  # holds the add-on: acme@vip.support.example
    globex: Company  # does not
    ivan: User
    anna: User
    bob: User
    agent: User


def mail_world(*, at: datetime.datetime) -> MailWorld:
    """Acme (VIP, Maria as its dedicated agent) with Ivan and Anna; Globex with Bob."""
    acme = vip_company(name="Acme")
    globex = CompanyFactory(name="Globex")
    agent = AgentFactory(email="maria@support.example", first_name="Maria", last_name="Ivanova")
    account_services.company_assign_agents(company=acme, dedicated=agent, now=at)
    ivan = CustomerFactory(
        email="ivan@acme.example",
        first_name="Ivan",
        last_name="Petrov",
        company=acme,
        preferred_language="bg",
        time_zone="Europe/Sofia",
    )
    anna = CustomerFactory(
        email="anna@acme.example", first_name="Anna", last_name="Smith", company=acme
    )
    bob = CustomerFactory(email="bob@globex.example", first_name="Bob", company=globex)
    return MailWorld(acme, globex, ivan, anna, bob, agent)


def message(
    *,
    sender: str = "ivan@acme.example",
    to: str = "acme@vip.support.example",
    subject: str = "The VPN drops every hour",
    body: str = "Since Monday the VPN disconnects every hour.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    cc: str | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = message_id or f"<test-{next(_numbers)}@mail.acme.example>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()
