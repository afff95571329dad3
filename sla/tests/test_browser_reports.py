"""The manager's report and the customer's statement in Chromium, with the CSV download."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import services as account_services
from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import AgentFactory, CustomerFactory, UserFactory, vip_company
from sla.services import sla_scan
from tickets import services
from tickets.tests.factories import make_ticket
from vipsupport.testing import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def breached():
    company = vip_company(name="Acme Ltd")
    agent = AgentFactory(first_name="Maria", last_name="Ivanova")
    account_services.company_assign_agents(company=company, dedicated=agent)
    customer = CustomerFactory(email="alice@acme.example", company=company)
    manager = UserFactory(email="elena@support.example")
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    now = timezone.now()
    critical = make_ticket(
        requester=customer, severity=1, subject="Mail is down", at=now - datetime.timedelta(hours=3)
    )
    standard = make_ticket(
        requester=customer, severity=3, subject="Slow export", at=now - datetime.timedelta(hours=3)
    )
    services.ticket_reply(
        ticket=standard,
        author=agent,
        body="On it.",
        at=now - datetime.timedelta(hours=2, minutes=50),
    )
    sla_scan(now=now)
    return {"critical": critical, "standard": standard}


def test_manager_filters_sev1_sees_the_chart_and_downloads_the_csv(live_server, new_page, breached):
    page = new_page()
    log_in(page, live_server.url, "elena@support.example")
    today = timezone.localdate()
    first = today - datetime.timedelta(days=6)
    page.goto(
        f"{live_server.url}/reports/sla/?period=custom&first={first:%Y-%m-%d}&last={today:%Y-%m-%d}"
    )
    page.select_option("select[name=severity]", "1")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "severity=1" in url)
    screenshot(page, "reports-01-sla-report-sev1")

    assert page.locator("[data-testid=trend-chart] svg").is_visible()
    rows = page.locator("[data-testid=breaches] tbody tr")
    assert rows.count() == 1
    assert "Mail is down" in rows.first.inner_text()

    with page.expect_download() as download_info:
        page.click("[data-testid=csv-link]")
    content = open(download_info.value.path(), encoding="utf-8").read()  # noqa: SIM115
    records = list(csv.DictReader(io.StringIO(content)))
    assert [(row["ticket"], row["severity"], row["metric"]) for row in records] == [
        (str(breached["critical"].pk), "1", "first_response")
    ]


def test_the_vip_customer_opens_their_statement(live_server, new_page, breached):
    page = new_page()
    log_in(page, live_server.url, "alice@acme.example")
    page.click("nav >> text=SLA statement")
    page.wait_for_url(lambda url: "/sla/statement/" in url)
    due = timezone.localtime(breached["critical"].sla_targets.get().due_at)
    if due.strftime("%Y-%m") != timezone.localdate().strftime("%Y-%m"):
        # Run just after midnight on the 1st, the breach belongs to last month's statement.
        page.goto(f"{page.url}?month={due:%Y-%m}")
    screenshot(page, "reports-02-customer-statement")

    text = page.locator("main").inner_text()
    assert "Acme Ltd" in text
    assert "Mail is down" in text


@pytest.mark.parametrize("width", [1360, 1024, 800])
def test_the_report_tables_stay_inside_their_cards(live_server, chromium, breached, width):
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        log_in(page, live_server.url, "elena@support.example")
        page.goto(f"{live_server.url}/reports/sla/?period=this_month")
        screenshot(page, f"reports-02-width-{width}")

        tables = page.locator("main table")
        assert tables.count() == 3
        for table in tables.all():
            name = table.get_attribute("data-testid")
            shown = table.locator("xpath=..")  # its scrolling frame
            card = table.locator("xpath=ancestor::section[contains(@class, 'card')][1]")
            box, frame = shown.bounding_box(), card.bounding_box()
            assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5, name
            if width >= 1360:  # a desktop screen shows every column without scrolling
                assert shown.evaluate("e => e.scrollWidth <= e.clientWidth"), name
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
