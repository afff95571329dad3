"""Companies, people and chats for the chat's tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from accounts import services as account_services
from accounts.models import Company, User
from accounts.tests.factories import AgentFactory, CompanyFactory, CustomerFactory, vip_company
from chat import services
from chat.models import Conversation, Door


@dataclass(frozen=True)
class ChatWorld:
    acme: Company  # holds the add-on: Maria dedicated, Peter backup
    globex: Company  # does not
    ivan: User  # Acme, Bulgarian, Sofia
    anna: User  # Acme
    bob: User  # Globex
    maria: User  # Acme's dedicated agent
    peter: User  # Acme's backup agent
    olga: User  # an agent with no company of her own


def chat_world(*, at: datetime.datetime) -> ChatWorld:
    acme = vip_company(name="Acme")
    globex = CompanyFactory(name="Globex")
    maria = AgentFactory(email="maria@support.example", first_name="Maria", last_name="Ivanova")
    peter = AgentFactory(email="peter@support.example", first_name="Peter", last_name="Georgiev")
    olga = AgentFactory(email="olga@support.example", first_name="Olga", last_name="Dimova")
    account_services.company_assign_agents(company=acme, dedicated=maria, backup=peter, now=at)
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
    return ChatWorld(acme, globex, ivan, anna, bob, maria, peter, olga)


def chat_of(
    customer: User,
    *,
    door: Door = Door.SITE,
    body: str = "Hello, our export is stuck.",
    at: datetime.datetime | None = None,
) -> Conversation:
    """A chat the customer started with one message."""
    return services.conversation_start(customer=customer, door=door, body=body, at=at)
