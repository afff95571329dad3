"""The benchmarks' bulk rows are the rows the services would write: if a model gains a column
or a rule, this fails here instead of inside `make bench`."""

import datetime

import pytest
from django.test import Client

from accounts.models import User
from bench import data as bench
from sla.models import SlaTarget
from tickets.markdown import render_markdown
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_tickets_and_targets_pass_the_models_rules_and_render():
    now = datetime.datetime(2026, 11, 30, 8, tzinfo=datetime.UTC)
    people = bench.seed_people(
        companies=4, vip_every=2, customers_per_company=2, agents=3, seniors=1, managers=1
    )
    bench.generate_tickets(
        people,
        count=60,
        now=now,
        mix=bench.TicketMix(due_every=5, waiting_permille=200, tier2_permille=100),
        sla_targets=True,
    )

    tickets = list(Ticket.objects.all())
    assert len(tickets) == 60
    for ticket in tickets:
        ticket.full_clean()
        assert ticket.description_html == render_markdown(ticket.description)
    for target in SlaTarget.objects.all():
        target.full_clean()
    agent = User.objects.get(pk=people.agent_ids[0])
    client = Client()
    client.force_login(agent)
    assert client.get("/queue/").status_code == 200
    assert client.get(f"/queue/tickets/{tickets[0].pk}/").status_code == 200
