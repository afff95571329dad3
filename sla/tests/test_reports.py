"""Every report figure against a small data set whose answers were worked out by hand."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    UserFactory,
    vip_company,
)
from sla.reports import (
    PeriodChoice,
    ReportFilters,
    month_period,
    percentile,
    period_resolve,
    report_build,
)
from sla.services import sla_scan
from tickets import services
from tickets.models import EscalationSource, Status
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def data():
    acme = vip_company(name="Acme Ltd")
    globex = CompanyFactory(name="Globex")
    maria = AgentFactory(first_name="Maria", last_name="Ivanova")
    ivan = AgentFactory(first_name="Ivan", last_name="Kolev")
    alice = CustomerFactory(company=acme)
    bob = CustomerFactory(company=globex)

    # T1, Sev 3: answered in 30 min, then a follow-up met after 8 h 30 business minutes.
    t1 = make_ticket(requester=alice, severity=3, at=berlin(2026, 10, 5, 9, 0))
    services.ticket_reply(ticket=t1, author=maria, body="Looking.", at=berlin(2026, 10, 5, 9, 30))
    services.ticket_escalate(
        ticket=t1,
        reason="We need a senior",
        source=EscalationSource.CUSTOMER,
        requested_by=alice,
        at=berlin(2026, 10, 6, 9, 0),
    )
    services.ticket_reply(
        ticket=t1,
        author=maria,
        body="Please test.",
        new_status=Status.WAITING,
        at=berlin(2026, 10, 6, 10, 0),
    )
    # T2, Sev 1: first response breached (answered 23 h late), follow-up met in 3 h.
    t2 = make_ticket(requester=alice, severity=1, at=berlin(2026, 10, 13, 10, 0))
    sla_scan(now=berlin(2026, 10, 14, 0, 0))
    services.ticket_reply(ticket=t2, author=maria, body="Sorry.", at=berlin(2026, 10, 14, 10, 0))
    services.ticket_reply(
        ticket=t2,
        author=maria,
        body="Fixed.",
        new_status=Status.SOLVED,
        at=berlin(2026, 10, 14, 13, 0),
    )
    # T3, Globex (Standard), Sev 4: one business day, breached, answered 90 min late.
    t3 = make_ticket(requester=bob, severity=4, at=berlin(2026, 10, 29, 16, 0))
    sla_scan(now=berlin(2026, 10, 30, 16, 30))
    services.ticket_reply(ticket=t3, author=ivan, body="Done.", at=berlin(2026, 10, 30, 17, 30))
    # T4 is due inside October locally; T5 only in UTC (local 1 November 00:30).
    t4 = make_ticket(requester=alice, severity=1, at=berlin(2026, 10, 31, 22, 30))
    make_ticket(requester=alice, severity=1, at=berlin(2026, 10, 31, 23, 30))
    return {
        "acme": acme,
        "globex": globex,
        "maria": maria,
        "ivan": ivan,
        "t1": t1,
        "t2": t2,
        "t3": t3,
        "t4": t4,
    }


def october_filters(**filters):
    return ReportFilters(period=month_period(2026, 10, BERLIN), **filters)


def october(**filters):
    return report_build(filters=october_filters(**filters))


def test_totals(data):
    totals = october().totals

    assert (totals.due, totals.met, totals.breached, totals.running) == (6, 3, 2, 1)
    assert totals.compliance == 60.0
    # Times taken mix business and clock hours across rows, so only the rows carry medians.
    assert (totals.median, totals.p90) == (None, None)


def test_compliance_by_metric_and_severity(data):
    rows = {
        (row.kind, row.severity): (
            row.figures.due,
            row.figures.met,
            row.figures.breached,
            row.figures.running,
            row.figures.compliance,
            row.figures.median,
        )
        for row in october().compliance
    }

    assert rows == {
        ("first_response", 1): (2, 0, 1, 1, 0.0, 24 * H),
        ("first_response", 3): (1, 1, 0, 0, 100.0, 30 * M),
        ("first_response", 4): (1, 0, 1, 0, 0.0, 9 * H),
        ("follow_up", 1): (1, 1, 0, 0, 100.0, 3 * H),
        ("follow_up", 3): (1, 1, 0, 0, 100.0, 8 * H + 30 * M),
    }


def test_per_agent_names_who_was_answerable_when_each_target_was_decided(data):
    rows = {
        row.name: (row.tickets, row.figures.met, row.figures.breached, row.median_first_response)
        for row in october().agents
    }

    # T2's and T3's first responses were breached while nobody had the ticket; Maria took T1 and
    # T2 by answering them, Ivan took T3 only after its one target had breached.
    assert rows == {
        "Maria Ivanova": (2, 3, 0, 30 * M),
        "Unassigned": (3, 0, 2, 16 * H + 30 * M),
    }


def test_a_running_target_follows_a_reassignment(data):
    services.ticket_assign(ticket=data["t4"], assignee=data["ivan"], actor=None)

    assert october(agent_id=data["ivan"].pk).totals.running == 1


def test_escalations_by_source(data):
    assert october().escalations == {"customer": 1, "agent": 0, "sla": 1}


@pytest.mark.parametrize(
    ("filters", "due"),
    [
        ({"severity": 3}, 2),
        ({"metric": "follow_up"}, 2),
        ({"vip_only": True}, 5),
    ],
)
def test_filters(data, filters, due):
    assert october(**filters).totals.due == due


def test_company_and_agent_filters(data):
    assert october(company_id=data["globex"].pk).totals.breached == 1
    assert october(agent_id=data["maria"].pk).totals.due == 3


def test_weekly_trend(data):
    weeks = {week.start: (week.met, week.breached) for week in october().trend}

    assert len(weeks) == 12
    assert weeks[date(2026, 10, 5)] == (2, 0)
    assert weeks[date(2026, 10, 12)] == (1, 1)
    assert weeks[date(2026, 10, 26)] == (0, 1)
    assert weeks[date(2026, 8, 17)] == (0, 0)


def test_a_period_in_another_zone_has_other_boundaries(data):
    new_york = month_period(2026, 10, ZoneInfo("America/New_York"))

    report = report_build(filters=ReportFilters(period=new_york))

    # In New York both late-October tickets fall in October (local 31 Oct 18:30 and 19:30).
    assert report.totals.due == 7
    assert new_york.start == datetime(2026, 10, 1, 4, 0, tzinfo=UTC)


def test_percentile_fallback_matches_percentile_cont():
    values = [30 * M, 3 * H, 8 * H + 30 * M, 9 * H, 24 * H]

    assert percentile(values, 0.5) == 8 * H + 30 * M
    assert percentile(values, 0.9) == 18 * H
    assert percentile([], 0.5) is None
    assert percentile([H], 0.9) == H


@pytest.mark.parametrize(
    ("choice", "first", "last"),
    [
        (PeriodChoice.THIS_WEEK, date(2026, 11, 23), date(2026, 11, 29)),
        (PeriodChoice.LAST_WEEK, date(2026, 11, 16), date(2026, 11, 22)),
        (PeriodChoice.THIS_MONTH, date(2026, 11, 1), date(2026, 11, 30)),
        (PeriodChoice.LAST_MONTH, date(2026, 10, 1), date(2026, 10, 31)),
    ],
)
def test_named_periods(choice, first, last):
    period = period_resolve(choice=choice, today=date(2026, 11, 26), zone=BERLIN)

    assert (period.first, period.last) == (first, last)


@pytest.fixture
def manager(client_for):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return client_for(user)


class TestPage:
    URL = "/reports/sla/?period=custom&first=2026-10-01&last=2026-10-31"

    def test_the_report_page_shows_figures_chart_and_breaches(self, data, manager):
        page = manager.get(self.URL).text

        assert '<span class="value">60.0%</span>' in page
        assert 'data-testid="trend-chart"' in page
        assert "<svg" in page
        assert f"/queue/tickets/{data['t2'].pk}/" in page
        assert "23h 00m" in page  # T2 first response: due 13 Oct 11:00, answered 14 Oct 10:00

    def test_a_link_without_a_period_is_read_as_meant(self, data, manager):
        by_company = manager.get(f"/reports/sla/?company={data['t2'].company_id}")
        bad_day = manager.get("/reports/sla/?first=2026-13-45&last=2026-10-31")

        assert by_company.status_code == 200
        assert bad_day.status_code == 400
        assert "Enter a valid date." in bad_day.text
        assert "This field is required." not in bad_day.text

    def test_it_speaks_bulgarian(self, data, manager):
        manager.post("/i18n/language/", {"language": "bg", "next": "/"})

        page = manager.get(self.URL).text

        assert "Седмична тенденция" in page
        assert "Нарушени" in page
        # The chart's coordinates are numbers for the browser, not for the reader: "157,0" (the
        # Bulgarian decimal comma) is no SVG length, and the bars vanished.
        assert re.findall(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="[^"]*,', page) == []

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("period=custom&first=2026-10-31&last=2026-10-01", "must not be before"),
            ("period=custom&first=2016-01-01&last=2026-01-01", "at most 366 days"),
            ("period=this_month&company=999999", "There is no such company."),
            ("period=this_month&agent=abc", "There is no such agent."),
            ("period=custom", "Give both a first and a last day"),
        ],
    )
    def test_bad_filters_get_a_clear_message(self, manager, query, message):
        response = manager.get(f"/reports/sla/?{query}")

        assert response.status_code == 400
        assert message in response.text

    def test_sorting_and_unknown_sort_keys(self, data, manager):
        assert manager.get(self.URL + "&sort=-overdue").status_code == 200
        assert manager.get(self.URL + "&sort=drop table").status_code == 200

    def test_query_count_does_not_grow_with_the_data(
        self, data, manager, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(30) as few:
            manager.get(self.URL)
        customer = CustomerFactory(company=data["acme"])
        for hour in range(8):
            make_ticket(requester=customer, severity=2, at=berlin(2026, 10, 20, 9 + hour, 0))
        sla_scan(now=berlin(2026, 10, 21, 0, 0))

        with django_assert_max_num_queries(len(few.captured_queries)):
            manager.get(self.URL)

    def test_csv_export_streams_the_breaches(self, data, manager):
        response = manager.get(self.URL.replace("/reports/sla/", "/reports/sla/breaches.csv"))

        assert response.streaming
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:4] == ["ticket", "company", "severity", "metric"]
        assert sorted((row[0], row[1], row[6]) for row in rows[1:]) == sorted(
            [(str(data["t2"].pk), "Acme Ltd", "1380"), (str(data["t3"].pk), "Globex", "90")]
        )

    @pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
    def test_days_outside_the_years_reports_cover_are_refused_before_any_output(self, manager, day):
        query = f"?period=custom&first={day}&last={day}"

        page = manager.get("/reports/sla/" + query)
        download = manager.get("/reports/sla/breaches.csv" + query)

        assert page.status_code == download.status_code == 400
        message = "Choose days from 1 January 2000 to 31 December 2099."
        assert message in page.text
        assert not download.streaming
        assert download.text == message

    def test_a_failure_while_streaming_leaves_a_visibly_broken_file(
        self, data, manager, monkeypatch
    ):
        from sla import views

        real_row = views._csv_row
        written = []

        def fail_on_the_second(record):
            if written:
                raise RuntimeError("connection lost")
            written.append(record)
            return real_row(record)

        monkeypatch.setattr(views, "_csv_row", fail_on_the_second)
        response = manager.get(self.URL.replace("/reports/sla/", "/reports/sla/breaches.csv"))
        received: list[str] = []

        def download():
            received.extend(chunk.decode() for chunk in response.streaming_content)

        with pytest.raises(RuntimeError, match="connection lost"):
            download()

        rows = list(csv.reader(io.StringIO("".join(received))))
        assert rows[0][0] == "ticket"
        assert len(rows) == 3  # the header, one breach, and the notice
        assert rows[-1] == [views.CSV_INCOMPLETE]

    def test_the_landing_page_shows_the_addon_overview(self, data, manager):
        page = manager.get("/reports/").text

        assert "Acme Ltd" in page
        assert "Monthly recurring revenue: 1000 €" in page


@pytest.mark.parametrize("path", ["/reports/", "/reports/sla/", "/reports/sla/breaches.csv"])
def test_only_managers_and_admins_reach_reports(client_for, client, path):
    assert client_for(CustomerFactory()).get(path).status_code == 403
    assert client_for(AgentFactory()).get(path).status_code == 403
    client.logout()
    assert client.get(path).status_code == 302


def test_an_unanswered_breach_is_overdue_until_the_moment_the_report_is_read(data):
    from sla.models import TargetState
    from sla.reports import report_breaches, report_targets

    waiting = make_ticket(
        requester=CustomerFactory(company=data["acme"]), severity=1, at=berlin(2026, 10, 20, 10, 0)
    )
    sla_scan(now=berlin(2026, 10, 20, 12, 0))
    read_at = berlin(2026, 11, 2, 9, 0)
    breaches = report_breaches(
        targets=report_targets(filters=october_filters()), now=read_at, ordering="due"
    )

    unanswered = [target for target in breaches if target.fulfilled_at is None]
    assert [target.ticket_id for target in unanswered] == [waiting.pk]
    for target in unanswered:
        assert target.state == TargetState.BREACHED
        assert target.overdue == read_at - target.due_at
