"""A Sev 1 ticket's journey in Chromium: customer, agent and senior, each in their own browser.

Every step leaves a screenshot in test-artifacts/journey-NN-*.png (not committed) for a human to
look at.
"""

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company
from tickets import services
from tickets.models import Severity, Status, Ticket, TicketMessage
from tickets.tests.factories import make_ticket
from vipsupport.testing import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")


def _customer_time(moment: datetime.datetime) -> str:
    """What Django's `date:"D j M H:i"` prints for `moment` in the customer's zone."""
    return moment.astimezone(BERLIN).strftime("%a %-d %b %H:%M")


@pytest.fixture
def desk() -> dict[str, Any]:
    """A VIP company with its dedicated agent and backup senior, a customer, and older tickets."""
    company = vip_company(name="Acme Ltd")
    agent = AgentFactory(email="maria@vipsupport.example", first_name="Maria", last_name="Ivanova")
    senior = SeniorFactory(
        email="stefan@vipsupport.example", first_name="Stefan", last_name="Petrov"
    )
    account_services.company_assign_agents(company=company, dedicated=agent, backup=senior)
    customer = CustomerFactory(
        email="alice@acme.example",
        first_name="Alice",
        last_name="Smith",
        company=company,
        time_zone="Europe/Berlin",
    )
    colleague = CustomerFactory(email="bob@acme.example", company=company)
    earlier = timezone.now() - datetime.timedelta(minutes=20)
    others = [
        make_ticket(
            requester=colleague, severity=Severity.BUG, subject="Printer queue is slow", at=earlier
        ),
        make_ticket(
            severity=Severity.STANDARD, subject="Calendar invites show the wrong time", at=earlier
        ),
    ]
    return {"agent": agent, "senior": senior, "customer": customer, "others": others}


def test_sev1_journey_from_customer_to_agent_to_senior(live_server, page, new_page, desk):
    base = live_server.url
    customer: User = desk["customer"]
    others: list[Ticket] = desk["others"]

    # 1. The customer opens a Sev 1 ticket.
    log_in(page, base, customer.email)
    page.goto(f"{base}/tickets/new/")
    page.fill("#id_subject", "Production mail server is down")
    page.fill("#id_description", "Nobody in the company can send or receive e-mail since 09:40.")
    page.check("input[name=severity][value='1']")
    screenshot(page, "journey-01-new-ticket")
    page.click("form.card button[type=submit].primary")
    page.wait_for_url(re.compile(r"/tickets/\d+/$"))

    ticket = Ticket.objects.get(subject="Production mail server is down")
    assert page.url == f"{base}/tickets/{ticket.pk}/"
    assert ticket.severity == 1
    assert ticket.sla_due_at is not None
    assert ticket.sla_due_at - ticket.created_at == datetime.timedelta(hours=1)
    promise = page.locator("[data-testid=sla-promise]")
    expected = f"We will reply by {_customer_time(ticket.sla_due_at)} (your time, Europe/Berlin)."
    assert expected in promise.inner_text()
    screenshot(page, "journey-02-ticket-promise")

    # 2. The agent finds it at the top of the queue, with a live countdown.
    agent_page = new_page()
    log_in(agent_page, base, desk["agent"].email)
    agent_page.goto(f"{base}/queue/")
    rows = agent_page.locator("tbody#queue-rows tr")
    assert rows.count() == 3
    first = rows.first
    assert first.get_attribute("data-ticket-id") == str(ticket.pk)
    listed = [rows.nth(i).get_attribute("data-ticket-id") for i in range(3)]
    assert set(listed[1:]) == {str(other.pk) for other in others}
    countdown = first.locator(".countdown")
    before = countdown.inner_text()
    assert re.fullmatch(r"in 5\dm \d\ds", before), before
    agent_page.wait_for_timeout(2_000)
    after = countdown.inner_text()
    assert re.fullmatch(r"in 5\dm \d\ds", after), after
    assert after != before
    screenshot(agent_page, "journey-03-agent-queue")

    # 3. The agent opens it and replies to the customer.
    first.locator(f"a[href='/queue/tickets/{ticket.pk}/']").click()
    agent_page.wait_for_url(f"{base}/queue/tickets/{ticket.pk}/")
    reply_text = "We are restarting the mail relay now; next update within the hour."
    agent_page.fill("#reply-body", reply_text)
    agent_page.locator("form:has(#reply-body) button[type=submit].primary").click()
    agent_page.locator(".messages li", has_text="Reply sent.").wait_for()
    assert agent_page.locator("article.message.public.staff", has_text=reply_text).is_visible()
    screenshot(agent_page, "journey-04-agent-replied")

    reply = TicketMessage.objects.get(ticket=ticket, author=desk["agent"])
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.sla_due_at == reply.created_at + datetime.timedelta(hours=4)

    # 4. The customer sees the reply and when the next update is due.
    page.reload()
    assert page.locator("article.message", has_text=reply_text).is_visible()
    promise = page.locator("[data-testid=sla-promise]")
    expected = f"Next update due by {_customer_time(ticket.sla_due_at)} (your time, Europe/Berlin)."
    assert expected in promise.inner_text()
    screenshot(page, "journey-05-customer-sees-reply")

    # 5. The customer escalates to a senior engineer.
    page.click("text=Escalate to a senior engineer")
    page.wait_for_url(f"{base}/tickets/{ticket.pk}/escalate/")
    page.fill("#id_reason", "The whole company is without e-mail; we need a senior engineer now.")
    screenshot(page, "journey-06-escalate-form")
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{base}/tickets/{ticket.pk}/")
    assert page.locator(".messages li", has_text="A senior engineer is on it.").is_visible()
    assert page.locator("[data-testid=senior-on-it]").is_visible()
    assert page.locator("text=Escalate to a senior engineer").count() == 0
    screenshot(page, "journey-07-escalated")
    ticket.refresh_from_db()
    assert ticket.tier == 2

    # 6. The senior's queue opens on the tier-2 view, which holds only the escalated ticket.
    senior_page = new_page()
    log_in(senior_page, base, desk["senior"].email)
    senior_page.goto(f"{base}/queue/")
    assert senior_page.locator("nav.tabs a[aria-current=page]").inner_text() == "Tier 2"
    rows = senior_page.locator("tbody#queue-rows tr")
    assert [rows.nth(i).get_attribute("data-ticket-id") for i in range(rows.count())] == [
        str(ticket.pk)
    ]
    for other in others:
        assert senior_page.locator(f"tr[data-ticket-id='{other.pk}']").count() == 0
    screenshot(senior_page, "journey-08-senior-tier2")


def test_queue_rows_refresh_through_htmx_polling_without_a_reload(live_server, page, desk):
    base = live_server.url
    # A controllable clock, so the rows' own `hx-trigger="every 30s"` poll can be fast-forwarded.
    page.clock.install()
    log_in(page, base, desk["agent"].email)
    page.goto(f"{base}/queue/")
    rows = page.locator("tbody#queue-rows tr")
    assert rows.count() == 2
    page.evaluate("window.__marker = 1")
    screenshot(page, "journey-09-queue-before-poll")

    fresh = services.ticket_create(
        requester=desk["customer"],
        subject="VPN drops every five minutes",
        description="Since the update this morning the VPN disconnects every five minutes.",
        severity=Severity.HIGH,
    )
    new_row = page.locator(f"tbody#queue-rows tr[data-ticket-id='{fresh.pk}']")
    assert new_row.count() == 0

    with page.expect_request(lambda request: request.headers.get("hx-request") == "true"):
        page.clock.run_for("00:31")
    new_row.wait_for()
    assert rows.count() == 3
    assert page.evaluate("window.__marker") == 1
    # Only the rows were swapped in: no second page inside the table body.
    assert page.locator("table.queue").count() == 1
    assert page.locator("#queue-rows h1, #queue-rows form").count() == 0
    screenshot(page, "journey-10-queue-after-poll")
