"""The monthly SLA statement, against a small data set worked out by hand.

The data (Europe/Berlin wall-clock times; CEST until Sun 25 Oct 2026 03:00, CET after):

Acme (VIP since 2020):
  Apr 14  Sev 1 first response breached (outside the six-month history)
  Jul 14  Sev 3 first response met
  Sep 15  Sev 3 first response met (60 min); Sev 1 first response breached
  Sep 30 23:40 CEST  Sev 2, first response due Thu 1 Oct 00:40 CEST (Sep 30 22:40 UTC): October
                     locally, September in UTC; answered 00:00, 20 min
  Oct 6   Sev 3 first response met in 30 business minutes; its follow-up met Oct 7 after
          8 business hours (Tue 10:30-17:00 and Wed 09:00-10:30)
  Oct 8   Sev 1 first response due 11:00, breached, answered 11:45 (taken 1 h 45, 45 min late)
  Oct 13  Sev 3 first response met in 60 business minutes
  Oct 30  Sev 4 first response due 17:00 CET, breached and never answered
  Oct 31 20:00 CET  Sev 1 first response met in 30 min; its follow-up (4 h) is due
                    Sun 1 Nov 00:30 CET = Oct 31 23:30 UTC: November locally, October in UTC;
                    breached by the scan at 01:00
  Oct 31 22:30 CET  Sev 2 first response due 23:30 CET (22:30 UTC), met after 40 min

So October: met 6, breached 2 (75%); medians Sev 1 FR (30 min, 105 min) → 67.5 min, Sev 2 FR
(20, 40) → 30 min, Sev 3 FR (30, 60) → 45 min, Sev 3 follow-up 8 business hours.
Globex (VIP) has one October breach that Acme must never see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import MANAGERS_GROUP, AddOn, AddOnSubscription, User
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
    vip_company,
)
from desk.selectors import desk_clock
from sla.models import Clock, TargetKind
from sla.services import sla_scan
from sla.statement import _history, month_shift, span_words, statement_build
from tickets import services as ticket_services
from tickets.models import Severity, Status, Ticket
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=BERLIN)  # Tue 10 Nov 2026, 11:00 UTC
MINUTE = timedelta(minutes=1)
URL = "/sla/statement/"


def berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def answer(ticket: Ticket, agent: User, at: datetime, *, solve: bool = True) -> None:
    ticket_services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="Here is what we found.",
        new_status=Status.SOLVED if solve else None,
        at=at,
    )


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The data set above, made once for the module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        acme = vip_company(name="Acme Ltd")
        globex = vip_company(name="Globex")
        agent: User = AgentFactory(first_name="Ana", last_name="Agent")  # type: ignore[assignment]
        alice: User = CustomerFactory(company=acme, time_zone="Europe/Berlin")  # type: ignore[assignment]
        bob: User = CustomerFactory(company=globex, time_zone="Europe/Berlin")  # type: ignore[assignment]

        def ticket(severity: int, at: datetime, subject: str, requester: User = alice) -> Ticket:
            return make_ticket(requester=requester, severity=severity, at=at, subject=subject)

        april = ticket(Severity.CRITICAL, berlin(4, 14, 10), "April outage")
        sla_scan(now=berlin(4, 14, 11, 5))
        answer(april, agent, berlin(4, 14, 11, 30))

        answer(
            ticket(Severity.STANDARD, berlin(7, 14, 10), "July question"),
            agent,
            berlin(7, 14, 10, 15),
        )

        september_met = ticket(Severity.STANDARD, berlin(9, 15, 10), "September question")
        september_late = ticket(Severity.CRITICAL, berlin(9, 15, 10), "September outage")
        answer(september_met, agent, berlin(9, 15, 11))
        sla_scan(now=berlin(9, 15, 11, 5))
        answer(september_late, agent, berlin(9, 15, 11, 30))

        first_of_october = ticket(Severity.HIGH, berlin(9, 30, 23, 40), "Late-night invoice run")
        answer(first_of_october, agent, berlin(10, 1, 0, 0))

        followed_up = ticket(Severity.STANDARD, berlin(10, 6, 10), "Calendar sync is slow")
        answer(followed_up, agent, berlin(10, 6, 10, 30), solve=False)
        answer(followed_up, agent, berlin(10, 7, 10, 30))

        outage = ticket(Severity.CRITICAL, berlin(10, 8, 10), "Mail server is down")
        globex_outage = ticket(Severity.CRITICAL, berlin(10, 8, 10), "Globex secret outage", bob)
        sla_scan(now=berlin(10, 8, 11, 5))
        answer(outage, agent, berlin(10, 8, 11, 45))

        answer(
            ticket(Severity.STANDARD, berlin(10, 13, 9), "Printer mapping"),
            agent,
            berlin(10, 13, 10),
        )

        unanswered = ticket(Severity.BUG, berlin(10, 30, 9), "Export drops accents")
        sla_scan(now=berlin(10, 30, 18))

        saturday = ticket(Severity.CRITICAL, berlin(10, 31, 20), "Weekend outage")
        answer(saturday, agent, berlin(10, 31, 20, 30), solve=False)
        last_hour = ticket(Severity.HIGH, berlin(10, 31, 22, 30), "Backup job failed")
        answer(last_hour, agent, berlin(10, 31, 23, 10))
        sla_scan(now=berlin(11, 1, 1))

        yield SimpleNamespace(
            acme=acme,
            globex=globex,
            agent=agent,
            alice=alice,
            bob=bob,
            outage=outage,
            globex_outage=globex_outage,
            unanswered=unanswered,
            saturday=saturday,
            last_hour=last_hour,
            first_of_october=first_of_october,
        )
        transaction.set_rollback(True)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def build(company, year: int = 2026, month: int = 10, zone: ZoneInfo = BERLIN):
    return statement_build(company=company, year=year, month=month, zone=zone)


def manager() -> User:
    user: User = UserFactory(time_zone="Europe/Berlin")  # type: ignore[assignment]
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def text(response) -> str:
    """The page's visible text with tags removed and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# ------------------------------------------------------------------------------ the numbers


def test_promised_and_delivered_per_severity(data, frozen):
    statement = build(data.acme)

    assert statement.is_vip
    assert statement.month == date(2026, 10, 1)
    assert [line.severity for line in statement.lines] == [1, 2, 3, 4, 5]
    promised = [(line.promised_first_response, line.promised_follow_up) for line in statement.lines]
    assert promised == [
        ("1 hour", "4 hours"),
        ("1 hour", "4 hours"),
        ("2 business hours", "2 business days"),
        ("1 business day", "—"),
        ("1 business day", "—"),
    ]
    delivered = [
        (
            line.first_response.met,
            line.first_response.breached,
            line.first_response.median,
            line.follow_up.met,
            line.follow_up.breached,
            line.follow_up.median,
        )
        for line in statement.lines
    ]
    assert delivered == [
        (1, 1, timedelta(minutes=67, seconds=30), 0, 0, None),
        (2, 0, 30 * MINUTE, 0, 0, None),
        (2, 0, 45 * MINUTE, 1, 0, timedelta(hours=8)),
        (0, 1, None, 0, 0, None),
        (0, 0, None, 0, 0, None),
    ]
    assert [line.first_response_median for line in statement.lines] == [
        "1 hour 8 minutes",
        "30 minutes",
        "45 business minutes",
        "—",
        "—",
    ]
    assert statement.lines[2].follow_up_median == "1 business day"


def test_the_month_is_cut_at_local_midnight_not_utc(data, frozen):
    """Oct 1 00:40 CEST is Sep 30 in UTC; Nov 1 00:30 CET is Oct 31 in UTC."""
    october = build(data.acme)
    in_utc = build(data.acme, zone=ZoneInfo("UTC"))

    assert october.lines[1].first_response.met == 2  # the Sep 30 23:40 ticket counts in October
    assert october.lines[0].follow_up.breached == 0  # the follow-up due Nov 1 00:30 does not
    assert in_utc.lines[1].first_response.met == 1
    assert in_utc.lines[0].follow_up.breached == 1

    november = build(data.acme, month=11)
    (breach,) = november.breaches
    assert breach.target.ticket_id == data.saturday.pk
    assert breach.target.kind == TargetKind.FOLLOW_UP
    assert breach.target.due_at == datetime(2026, 10, 31, 23, 30, tzinfo=UTC)


def test_the_target_due_at_half_past_eleven_on_the_last_evening_counts_in_october(data, frozen):
    target = data.last_hour.sla_targets.get(kind=TargetKind.FIRST_RESPONSE)
    assert target.due_at == datetime(2026, 10, 31, 22, 30, tzinfo=UTC)

    assert build(data.acme).lines[1].first_response.met == 2
    assert build(data.acme, month=11).lines[1].first_response.met == 0


def test_breaches_are_listed_oldest_first_with_how_late(data, frozen):
    statement = build(data.acme)

    late, open_ = statement.breaches
    assert (late.target.ticket_id, open_.target.ticket_id) == (data.outage.pk, data.unanswered.pk)
    assert late.target.kind == TargetKind.FIRST_RESPONSE
    assert late.target.due_at == datetime(2026, 10, 8, 9, 0, tzinfo=UTC)
    assert late.target.fulfilled_at == datetime(2026, 10, 8, 9, 45, tzinfo=UTC)
    assert (late.overdue, late.overdue_words, late.promised) == (
        45 * MINUTE,
        "45 minutes",
        "1 hour",
    )
    # Never answered: overdue from Fri 30 Oct 17:00 CET to now, Tue 10 Nov 12:00 CET.
    assert open_.target.due_at == datetime(2026, 10, 30, 16, 0, tzinfo=UTC)
    assert open_.target.fulfilled_at is None
    assert open_.overdue == timedelta(days=10, hours=19)
    assert open_.overdue_words == "10 days 19 hours"
    assert open_.promised == "1 business day"


def test_six_months_of_history_in_one_query(data, frozen, django_assert_num_queries):
    statement = build(data.acme)
    with django_assert_num_queries(1):
        _history(company=data.acme, period=statement.period)

    history = [(row.month, row.met, row.breached, row.compliance) for row in statement.history]
    assert history == [
        (date(2026, 5, 1), 0, 0, None),
        (date(2026, 6, 1), 0, 0, None),
        (date(2026, 7, 1), 1, 0, 100.0),
        (date(2026, 8, 1), 0, 0, None),
        (date(2026, 9, 1), 1, 1, 50.0),
        (date(2026, 10, 1), 6, 2, 75.0),
    ]
    assert statement.compliance == 75.0
    # In UTC the Sep 30 ticket falls in September and the Nov 1 follow-up in October.
    in_utc = build(data.acme, zone=ZoneInfo("UTC")).history
    assert [(row.met, row.breached) for row in in_utc[-2:]] == [(2, 1), (5, 3)]


def test_another_company_s_data_never_appears(data, frozen):
    acme = build(data.acme)
    globex = build(data.globex)

    assert data.globex_outage.pk not in [line.target.ticket_id for line in acme.breaches]
    assert [line.target.ticket_id for line in globex.breaches] == [data.globex_outage.pk]
    assert [(row.met, row.breached) for row in globex.history][-1] == (0, 1)


def test_statement_builds_in_a_fixed_number_of_queries(data, frozen, django_assert_num_queries):
    desk_clock()  # the desk's calendar is read once and cached, as after any page before
    # Add-on days; breaches; the policy (add-on today, policy, its targets); figures; history.
    with django_assert_num_queries(7):
        build(data.acme)


def test_a_company_that_dropped_the_add_on_keeps_the_statements_of_its_vip_months(data, frozen):
    subscription = AddOnSubscription.objects.get(
        company=data.acme, addon__code=AddOn.DEDICATED_AGENT
    )
    account_services.addon_end(subscription=subscription, ends_on=date(2026, 10, 15))

    october = build(data.acme)
    assert october.is_vip
    assert october.lines[0].promised_first_response == "1 hour"  # the VIP promise of October
    assert not build(data.acme, month=11).is_vip


def test_span_words():
    assert span_words(None, Clock.CALENDAR) == "—"
    assert span_words(timedelta(seconds=20), Clock.CALENDAR) == "under a minute"
    assert span_words(timedelta(seconds=30), Clock.CALENDAR) == "1 minute"
    assert span_words(timedelta(hours=25, minutes=1), Clock.CALENDAR) == "1 day 1 hour 1 minute"
    assert span_words(timedelta(hours=19), Clock.BUSINESS) == "2 business days 3 business hours"
    assert span_words(-MINUTE, Clock.CALENDAR) == "under a minute"


def test_month_shift():
    assert month_shift(date(2026, 10, 1), -5) == date(2026, 5, 1)
    assert month_shift(date(2026, 2, 1), -2) == date(2025, 12, 1)
    assert month_shift(date(2026, 12, 1), 1) == date(2027, 1, 1)


# ------------------------------------------------------------------------------ the page


def test_a_customer_reads_their_own_statement(client_for, data, frozen):
    response = client_for(data.alice).get(URL, {"month": "2026-10"})

    assert response.status_code == 200
    page = text(response)
    assert "SLA statement: Acme Ltd" in page
    assert "October 2026" in page
    assert "Times are in Europe/Berlin." in page
    assert "75% of the targets that fell due this month were met." in page
    assert "1 hour 8 minutes" in page
    assert "45 business minutes" in page
    assert "Mail server is down" in page
    assert "Export drops accents" in page
    assert "8 Oct 2026 11:00 CEST" in page  # the breach's deadline, in the viewer's zone
    assert "8 Oct 2026 11:45 CEST" in page
    assert "30 Oct 2026 17:00 CET" in page
    assert "Still open" in page
    assert "10 days 19 hours" in page
    assert "Globex" not in page
    html = response.content.decode()
    assert 'onclick="window.print()"' in html
    assert f'href="/tickets/{data.outage.pk}/"' in html
    assert 'href="?month=2026-09"' in html
    assert 'href="?month=2026-11"' in html
    assert response.context["statement"].company == data.acme


def test_the_current_month_is_the_default_and_has_no_next_link(client_for, data, frozen):
    response = client_for(data.alice).get(URL)

    assert response.context["statement"].month == date(2026, 11, 1)
    assert 'rel="next"' not in response.content.decode()
    assert "Weekend outage" in text(response)


def test_a_customer_cannot_forge_another_company(client_for, data, frozen):
    client = client_for(data.alice)

    assert client.get(URL, {"company": data.globex.pk}).status_code == 404
    assert client.get(URL, {"company": "nonsense"}).status_code == 404
    assert client.get(URL, {"company": data.acme.pk}).status_code == 200


def test_a_manager_opens_any_company(client_for, data, frozen):
    client = client_for(manager())

    response = client.get(URL, {"company": data.globex.pk, "month": "2026-10"})
    assert response.status_code == 200
    page = text(response)
    assert "SLA statement: Globex" in page
    assert "Globex secret outage" in page
    assert "Mail server is down" not in page
    html = response.content.decode()
    assert f'href="/queue/tickets/{data.globex_outage.pk}/"' in html
    assert f'href="?company={data.globex.pk}&amp;month=2026-09"' in html


def test_a_manager_without_a_company_chooses_among_vip_companies(client_for, data, frozen):
    standard = CompanyFactory(name="Plain Standard Co")

    response = client_for(manager()).get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="?company={data.acme.pk}"' in html
    assert f'href="?company={data.globex.pk}"' in html
    assert standard.name not in html


def test_an_unknown_company_is_a_404_for_a_manager(client_for, data, frozen):
    client = client_for(manager())

    assert client.get(URL, {"company": 999_999_999}).status_code == 404
    assert client.get(URL, {"company": "-1"}).status_code == 404


def test_an_administrator_opens_any_company(client_for, data, frozen):
    admin = UserFactory(is_superuser=True, is_staff=True, time_zone="Europe/Berlin")

    assert client_for(admin).get(URL, {"company": data.acme.pk}).status_code == 200


@pytest.mark.parametrize("factory", [AgentFactory, SeniorFactory])
def test_agents_are_refused(client_for, data, frozen, factory):
    assert client_for(factory()).get(URL, {"company": data.acme.pk}).status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client, data):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("month", ["2026-13", "october", "2026-1", "0001-01", "2026-10-01"])
def test_a_malformed_month_shows_the_current_month_with_a_message(client_for, data, frozen, month):
    response = client_for(data.alice).get(URL, {"month": month})

    assert response.status_code == 200
    assert response.context["statement"].month == date(2026, 11, 1)
    assert "is not a month the statement can show: give it as YYYY-MM" in text(response)


def test_a_future_month_shows_the_current_month_with_a_message(client_for, data, frozen):
    response = client_for(data.alice).get(URL, {"month": "2026-12"})

    assert response.status_code == 200
    assert response.context["statement"].month == date(2026, 11, 1)
    assert "December 2026 has not begun yet, so it has no statement." in text(response)


def test_a_company_without_the_add_on_is_told_statements_come_with_it(client_for, data, frozen):
    carol = CustomerFactory(company=CompanyFactory(name="Standard Co"))

    response = client_for(carol).get(URL, {"month": "2026-10"})

    assert response.status_code == 200
    assert 'data-testid="statement-not-vip"' in response.content.decode()
    assert "Monthly SLA statements come with the dedicated-agent add-on." in text(response)
    assert response.context["statement"].lines == []


def test_the_page_speaks_bulgarian(client_for, data, frozen):
    data.alice.preferred_language = "bg"
    data.alice.save(update_fields=["preferred_language"])

    response = client_for(data.alice).get(URL, {"month": "2026-10"})

    assert response.status_code == 200
    assert 'lang="bg"' in response.content.decode()


def test_the_page_s_query_count_does_not_grow_with_the_tickets(
    client_for, data, frozen, django_assert_max_num_queries
):
    client = client_for(manager())
    params = {"company": data.acme.pk, "month": "2026-10"}
    with CaptureQueriesContext(connection) as baseline:
        assert client.get(URL, params).status_code == 200

    for day in (19, 20, 21, 22, 23):
        for severity in Severity.values:
            make_ticket(requester=data.alice, severity=severity, at=berlin(10, day, 10))
        sla_scan(now=berlin(10, day, 20))

    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get(URL, params)
    assert len(response.context["statement"].breaches) > 20
