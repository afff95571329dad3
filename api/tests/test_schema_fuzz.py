"""Schemathesis against the API's own OpenAPI schema, every operation, inside `make test`.

Each operation gets a bounded number of generated requests (valid and invalid input), sent as a
real customer and as a real agent with bearer tokens, through Django's WSGI application, with
tickets and calls in the database for the ids to find. Every answer must be no 5xx, a
documented status code and content type, and a body that matches the schema.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from scheduling.tests.factories import NOW, make_booking, schedule_for, vip_people
from tickets import services
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

# Enough to reach every field's edge cases, few enough to keep the whole run near a minute.
EXAMPLES_PER_OPERATION = 8

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db: None) -> Iterator[schemathesis.BaseSchema]:
    # As Django's test client does: the test's transaction holds the connection, so a request
    # ending must not close it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class World:
    tokens: dict[str, str]
    # Real ids, so generated requests reach existing tickets and calls, not only 404s.
    ids: dict[str, list[int]]


@pytest.fixture
def world(db: None, settings: Any) -> Iterator[World]:
    """A VIP customer and their agent with tokens, tickets and a call, on a Monday morning."""
    settings.API_THROTTLE_RATE = "100000/minute"
    with time_machine.travel(NOW, tick=False):
        people = vip_people()
        schedule_for(people.agent)
        tickets = []
        for severity in (1, 3, 5):
            ticket = make_ticket(requester=people.customer, severity=severity)
            services.ticket_reply(ticket=ticket, author=people.agent, body="On it")
            tickets.append(ticket.pk)
        booking = make_booking(people, NOW + datetime.timedelta(days=1, hours=2), now=NOW)
        tokens = {}
        for role, user in (("customer", people.customer), ("agent", people.agent)):
            _row, tokens[role] = account_services.api_token_create(
                user=user, name="fuzz", lifetime_days=30
            )
        yield World(tokens=tokens, ids={"/tickets/": tickets, "/bookings/": [booking.pk]})


def _with_real_ids(operation: Any, ids: dict[str, list[int]]) -> Any:
    """Generated cases, half of them aimed at an existing row when the path names one."""
    known = next((rows for prefix, rows in ids.items() if prefix in operation.path), None)

    def aim(pair: tuple[Case, int | None]) -> Case:
        case, pk = pair
        if pk is not None and case.path_parameters and "pk" in case.path_parameters:
            case.path_parameters["pk"] = pk
        return case

    def strategy(mode: GenerationMode) -> Any:
        cases = operation.as_strategy(generation_mode=mode)
        if known is None:
            return cases
        return st.tuples(cases, st.sampled_from([*known, None])).map(aim)

    return strategy


def fuzz(schema: schemathesis.BaseSchema, world: World, role: str) -> None:
    """Every operation, valid and invalid input; all failures reported together."""
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 19
    for operation in operations:
        strategy = _with_real_ids(operation, world.ids)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=strategy(mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,  # the same requests on every run: a failure can be replayed
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def run(case: Case) -> None:
                with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
                    case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Exception as error:  # collected, then reported together
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)


def test_every_operation_answers_a_customer_as_documented(
    api_schema: schemathesis.BaseSchema, world: World
) -> None:
    fuzz(api_schema, world, "customer")


def test_every_operation_answers_an_agent_as_documented(
    api_schema: schemathesis.BaseSchema, world: World
) -> None:
    fuzz(api_schema, world, "agent")
