"""Numbers from requests: ASCII digits only, ids within 64 bits; anything else is bad input,
never a 500 (SQLite, under `make run`, raises OverflowError for an id past 64 bits)."""

import base64
import json

import pytest
from django.contrib.auth.models import Group

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import AgentFactory, CustomerFactory, UserFactory, vip_company
from tickets.models import Ticket
from tickets.queue import Cursor
from tickets.tests.factories import make_ticket
from vipsupport.fields import IdChoiceField, IdMultipleChoiceField
from vipsupport.ids import MAX_ID, parse_id, parse_int

NINES = "9" * 30


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7),
        ("0042", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (NINES, None),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits
        ("１２", None),  # full-width digits
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1_000", None),
        ("", None),
        (None, None),
        (12, 12),
        (True, None),
        (0, None),
        (1.0, None),
    ],
)
def test_an_id_is_ascii_digits_within_64_bits(value, expected):
    assert parse_id(value) == expected


def test_bounds_are_kept():
    assert parse_int("5", minimum=1, maximum=5) == 5
    assert parse_int("6", minimum=1, maximum=5) is None
    assert parse_int("0", minimum=1) is None


@pytest.mark.django_db
def test_the_id_fields_refuse_ids_no_row_can_have_before_any_query(django_assert_num_queries):
    from accounts.models import User

    single = IdChoiceField(queryset=User.objects.all())
    several = IdMultipleChoiceField(queryset=User.objects.all())

    with django_assert_num_queries(0):
        for value in (NINES, "²", "-3"):
            with pytest.raises(Exception, match="valid choice"):
                single.clean(value)
            with pytest.raises(Exception, match="valid value"):
                several.clean(["1", value])


def test_a_cursor_with_an_impossible_key_is_no_cursor():
    def token(*values):
        return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")

    good = ("2026-11-30T08:00:00+00:00", 3, "2026-11-30T07:00:00+00:00", 12)
    assert Cursor.decode(token(*good)) is not None
    assert Cursor.decode(token(*good[:3], int("9" * 31))) is None
    assert Cursor.decode(token(good[0], 99, *good[2:])) is None
    assert Cursor.decode(token(good[0], 3, "2026-11-30T07:00:00", 12)) is None  # naive
    assert Cursor.decode(token(*good[:3], True)) is None
    assert Cursor.decode("%%%") is None


@pytest.mark.django_db
class TestPagesTakeBadNumbersCalmly:
    @pytest.fixture
    def customer(self):
        return CustomerFactory(company=vip_company())

    @pytest.fixture
    def agent(self):
        return AgentFactory()

    @pytest.fixture
    def manager(self):
        user = UserFactory()
        user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        return user

    @pytest.mark.parametrize("value", ["²", NINES, "-1", "３"])
    def test_the_customer_ticket_list(self, client_for, customer, value):
        make_ticket(requester=customer, severity=2)

        response = client_for(customer).get("/tickets/", {"severity": value})

        assert response.status_code == 200
        assert response.context["page"].paginator.count == 1  # the filter is ignored

    @pytest.mark.parametrize("name", ["company", "assignee", "severity"])
    @pytest.mark.parametrize("value", ["²", NINES])
    def test_the_queue_filters(self, client_for, agent, name, value):
        make_ticket()

        response = client_for(agent).get("/queue/", {name: value})

        assert response.status_code == 200

    def test_a_forged_queue_cursor(self, client_for, agent):
        make_ticket()
        forged = base64.urlsafe_b64encode(
            json.dumps([None, 3, "2026-11-30T07:00:00+00:00", int("9" * 31)]).encode()
        ).decode()

        response = client_for(agent).get("/queue/", {"after": forged})

        assert response.status_code == 200

    def test_a_colleague_id_past_64_bits_on_the_new_ticket_form(self, client_for, customer):
        response = client_for(customer).post(
            "/tickets/new/",
            {"subject": "Mail", "description": "Down.", "severity": "3", "cc": [NINES]},
        )

        assert response.status_code == 400
        assert 'value="Mail"' in response.text
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize("name", ["company", "agent"])
    def test_the_report_filters(self, client_for, manager, name):
        response = client_for(manager).get("/reports/sla/", {"period": "this_month", name: NINES})

        assert response.status_code == 400

    def test_the_statement_and_the_calendar(self, client_for, manager):
        client = client_for(manager)

        assert client.get("/sla/statement/", {"company": NINES}).status_code == 404
        assert client.get("/sla/statement/", {"company": "²"}).status_code == 404
        assert client.get("/calendar/", {"agent": NINES}).status_code == 404
        assert client.get("/calendar/", {"agent": "²"}).status_code == 404
