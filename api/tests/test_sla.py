"""SLA figures through the API: the managers' report and a company's monthly statement.

"Now" is Tuesday 2026-11-10 12:00 in Berlin. The data (Berlin times, October 2026):
  Acme (VIP): T1 Sev 3 on Mon 5 Oct 09:00, answered 09:30 (first response met in 30 min);
              T2 Sev 1 on Tue 13 Oct 10:00, breached by the scan, answered Wed 14 Oct 10:00.
  Globex (Standard): T3 Sev 4 on Thu 29 Oct 16:00, breached, answered Fri 30 Oct 17:30.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    UserFactory,
    vip_company,
)
from api.views.sla import (
    SlaReportSerializer,
    SlaStatementSerializer,
    report_data,
    statement_data,
)
from sla.reports import ReportFilters, month_period, report_build
from sla.services import sla_scan
from sla.statement import statement_build
from tickets import services
from tickets.models import Status
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=BERLIN)
REPORT = "/api/v1/reports/sla/"
STATEMENT = "/api/v1/statement/"


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def data():
    acme = vip_company(name="Acme Ltd")
    globex = CompanyFactory(name="Globex")
    maria = AgentFactory(first_name="Maria", last_name="Ivanova")
    alice = CustomerFactory(company=acme, time_zone="Europe/Berlin")
    bob = CustomerFactory(company=globex, time_zone="Europe/Berlin")

    t1 = make_ticket(requester=alice, severity=3, at=berlin(2026, 10, 5, 9, 0))
    services.ticket_reply(
        ticket=t1,
        author=maria,
        body="Done.",
        new_status=Status.SOLVED,
        at=berlin(2026, 10, 5, 9, 30),
    )
    t2 = make_ticket(requester=alice, severity=1, at=berlin(2026, 10, 13, 10, 0))
    sla_scan(now=berlin(2026, 10, 14, 0, 0))
    services.ticket_reply(
        ticket=t2,
        author=maria,
        body="Sorry.",
        new_status=Status.SOLVED,
        at=berlin(2026, 10, 14, 10, 0),
    )
    t3 = make_ticket(requester=bob, severity=4, at=berlin(2026, 10, 29, 16, 0))
    sla_scan(now=berlin(2026, 10, 30, 16, 30))
    services.ticket_reply(
        ticket=t3,
        author=maria,
        body="Done.",
        new_status=Status.SOLVED,
        at=berlin(2026, 10, 30, 17, 30),
    )
    return {"acme": acme, "globex": globex, "maria": maria, "alice": alice, "bob": bob, "t2": t2}


def manager():
    user = UserFactory(time_zone="Europe/Berlin")
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def admin():
    return UserFactory(is_superuser=True, is_staff=True, time_zone="Europe/Berlin")


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"]
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


def october(**filters):
    """The report page's figures for October in Berlin, as the API writes them."""
    report = report_build(filters=ReportFilters(period=month_period(2026, 10, BERLIN), **filters))
    return SlaReportSerializer(report_data(report)).data


class TestReport:
    def test_the_figures_are_the_report_pages(self, data, api_client_for):
        response = api_client_for(manager()).get(
            REPORT, {"start": "2026-10-01", "end": "2026-10-31"}
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert body == october()
        assert body["period"] == {
            "first_day": "2026-10-01",
            "last_day": "2026-10-31",
            "zone": "Europe/Berlin",
            "start": "2026-09-30T22:00:00Z",
            "end": "2026-10-31T23:00:00Z",
        }
        totals = body["totals"]
        assert (totals["met"], totals["breached"], totals["compliance"]) == (1, 2, 100 / 3)
        rows = {(row["kind"], row["severity"]): row for row in body["compliance"]}
        assert rows[("first_response", 3)]["median_seconds"] == 30 * 60
        assert rows[("first_response", 1)]["breached"] == 1
        # Breaches count against whoever was answerable then: nobody had taken T2 and T3.
        agents = {row["agent_id"]: row for row in body["agents"]}
        maria = agents[data["maria"].pk]
        assert (maria["name"], maria["met"], maria["breached"]) == ("Maria Ivanova", 1, 0)
        assert maria["median_first_response_seconds"] == 30 * 60
        assert (agents[None]["name"], agents[None]["breached"]) == ("Unassigned", 2)
        assert set(body["escalations"]) == {"customer", "agent", "sla"}
        assert len(body["trend"]) == 12
        assert body["trend"][-1]["week_start"] == "2026-10-26"

    def test_filters_narrow_it_as_on_the_page(self, data, api_client_for):
        client = api_client_for(admin())
        query = {"start": "2026-10-01", "end": "2026-10-31"}

        acme = client.get(REPORT, {**query, "company": data["acme"].pk}).json()
        vip = client.get(REPORT, {**query, "vip_only": "true"}).json()
        severe = client.get(REPORT, {**query, "severity": 1, "metric": "first_response"}).json()

        assert acme == october(company_id=data["acme"].pk)
        assert vip["totals"]["breached"] == 1
        assert [(row["kind"], row["severity"]) for row in severe["compliance"]] == [
            ("first_response", 1)
        ]

    def test_without_dates_this_month_and_named_periods(self, data, api_client_for):
        client = api_client_for(manager())

        this_month = client.get(REPORT).json()["period"]
        last_month = client.get(REPORT, {"period": "last_month"}).json()["period"]

        assert (this_month["first_day"], this_month["last_day"]) == ("2026-11-01", "2026-11-30")
        assert (last_month["first_day"], last_month["last_day"]) == ("2026-10-01", "2026-10-31")

    @pytest.mark.parametrize(
        ("query", "field", "message"),
        [
            ({"start": "2026-13-45", "end": "2026-10-31"}, "start", None),
            ({"start": "2026-10-31", "end": "2026-10-01"}, "end", "must not be before"),
            ({"start": "2016-01-01", "end": "2026-01-01"}, "end", "at most 366 days"),
            ({"start": "1999-12-01", "end": "1999-12-31"}, "end", "Choose days from"),
            ({"period": "custom"}, "end", "Give both a first and a last day"),
            ({"period": "fortnight"}, "period", None),
            ({"company": 999_999}, "company", "There is no such company."),
            ({"company": "acme"}, "company", None),
            ({"agent": 999_999}, "agent", "There is no such agent."),
            ({"severity": 9}, "severity", None),
            ({"metric": "speed"}, "metric", None),
            ({"vip_only": "perhaps"}, "vip_only", None),
        ],
    )
    def test_bad_filters_are_a_400_with_the_pages_message(
        self, api_client_for, query, field, message
    ):
        error = assert_error(api_client_for(manager()).get(REPORT, query), 400, field)

        if message is not None:
            assert message in " ".join(error["fields"][field])

    def test_only_managers_and_admins(self, data, api_client_for):
        assert_error(api_client_for(data["maria"]).get(REPORT), 403)
        assert_error(api_client_for(data["alice"]).get(REPORT), 403)
        assert_error(APIClient().get(REPORT), 401)

    def test_the_query_count_does_not_grow_with_the_data(
        self, data, api_client_for, django_assert_max_num_queries
    ):
        client = api_client_for(manager())
        query = {"start": "2026-10-01", "end": "2026-10-31"}
        with django_assert_max_num_queries(30) as few:
            assert client.get(REPORT, query).status_code == 200
        for hour in range(6):
            make_ticket(
                requester=data["alice"],
                severity=2,
                at=berlin(2026, 10, 20, 9 + hour, 0),
                assignee=AgentFactory(),
            )
        sla_scan(now=berlin(2026, 10, 21, 0, 0))

        with django_assert_max_num_queries(len(few.captured_queries)):
            body = client.get(REPORT, query).json()
        assert body["totals"]["due"] > 3


class TestStatement:
    def test_a_customer_reads_their_companys_month(self, data, api_client_for):
        response = api_client_for(data["alice"]).get(STATEMENT, {"month": "2026-10"})

        assert response.status_code == 200, response.content
        body = response.json()
        built = statement_build(company=data["acme"], year=2026, month=10, zone=BERLIN)
        assert body == SlaStatementSerializer(statement_data(built)).data
        assert body["company"] == {"id": data["acme"].pk, "name": "Acme Ltd"}
        assert (body["month"], body["is_vip"]) == ("2026-10", True)
        assert [line["severity"] for line in body["lines"]] == [1, 2, 3, 4, 5]
        sev1 = body["lines"][0]["promised_first_response"]
        assert sev1["target_seconds"] > 0
        assert sev1["text"]
        [breach] = body["breaches"]
        assert breach["ticket"] == data["t2"].pk
        assert breach["kind"] == "first_response"
        assert breach["overdue_seconds"] > 0
        assert breach["due_at"].endswith("Z")
        assert [row["month"] for row in body["history"]] == [
            "2026-05",
            "2026-06",
            "2026-07",
            "2026-08",
            "2026-09",
            "2026-10",
        ]
        assert body["history"][-1]["met"] == 1

    def test_this_month_by_default_and_the_own_company_by_id(self, data, api_client_for):
        client = api_client_for(data["alice"])

        assert client.get(STATEMENT).json()["month"] == "2026-11"
        own = client.get(STATEMENT, {"company": data["acme"].pk, "month": "2026-10"})
        assert own.status_code == 200

    def test_another_companys_statement_is_a_404(self, data, api_client_for):
        client = api_client_for(data["alice"])

        assert_error(client.get(STATEMENT, {"company": data["globex"].pk}), 404)
        assert_error(client.get(STATEMENT, {"company": 999_999}), 404)

    def test_without_the_addon_there_is_no_statement(self, data, api_client_for):
        body = api_client_for(data["bob"]).get(STATEMENT, {"month": "2026-10"}).json()

        assert (body["is_vip"], body["lines"], body["breaches"]) == (False, [], [])

    @pytest.mark.parametrize(
        ("month", "message"),
        [
            ("2026-12", "has not begun yet"),
            ("2099-01", "has not begun yet"),
            ("2026-13", "YYYY-MM"),
            ("1999-12", "YYYY-MM"),
            ("october", "YYYY-MM"),
            ("２０２６-１０", "YYYY-MM"),
            ("2026-1", "YYYY-MM"),
            ("2026-10-01", None),
        ],
    )
    def test_months_the_page_would_not_show_are_a_400(self, data, api_client_for, month, message):
        response = api_client_for(data["alice"]).get(STATEMENT, {"month": month})

        error = assert_error(response, 400, "month")
        if message is not None:
            assert message in " ".join(error["fields"]["month"])

    def test_the_refusal_speaks_bulgarian(self, data, api_client_for):
        data["alice"].preferred_language = "bg"
        data["alice"].save()

        response = api_client_for(data["alice"]).get(STATEMENT, {"month": "2027-01"})

        assert "още не е започнал" in assert_error(response, 400, "month")["fields"]["month"][0]

    def test_managers_name_the_company(self, data, api_client_for):
        client = api_client_for(manager())

        assert_error(client.get(STATEMENT, {"month": "2026-10"}), 400, "company")
        assert_error(client.get(STATEMENT, {"company": "acme"}), 400, "company")
        assert_error(client.get(STATEMENT, {"company": 999_999}), 404)
        response = client.get(STATEMENT, {"company": data["acme"].pk, "month": "2026-10"})
        assert response.status_code == 200
        assert response.json()["breaches"][0]["ticket"] == data["t2"].pk

    def test_agents_and_strangers_are_refused(self, data, api_client_for):
        assert_error(api_client_for(data["maria"]).get(STATEMENT), 403)
        assert_error(APIClient().get(STATEMENT), 401)
