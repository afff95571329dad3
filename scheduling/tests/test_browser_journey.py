"""A Training call's journey in Chromium: the customer books it, the agent finds it in the
calendar, the customer moves it and then cancels it; each step e-mails both sides an iMIP update.

The clock is real (the pages offer free times from now), and so is the e-mail chain: the live
server's service commits, `on_commit` runs the Celery task eagerly, and the locmem backend keeps
the messages in `mail.outbox`. Screenshots go to test-artifacts/call-journey-NN-*.png.
"""

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from icalendar import Calendar

from scheduling import ical
from scheduling.forms import parse_instant
from scheduling.models import Booking, BookingStatus
from scheduling.tests.factories import People, call_type, vip_people
from scheduling.weeks import Week
from tickets.models import Ticket
from tickets.tests.factories import make_ticket
from vipsupport.testing import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UTC = datetime.UTC
NEW_YORK = ZoneInfo("America/New_York")
TOPIC = "Shared mailboxes for the new sales team"
# Training may be booked up to 30 days ahead: at most six weeks to page through.
WEEKS_TO_SEARCH = 6
SAFETY_MARGIN = datetime.timedelta(minutes=5)


@pytest.fixture
def people() -> People:
    """Acme's customer lives in New York; the agent works Berlin hours (the default)."""
    people = vip_people()
    people.customer.time_zone = "America/New_York"
    people.customer.save(update_fields=["time_zone"])
    return people


@pytest.fixture
def ticket(people: People, eager_tasks: None) -> Ticket:
    """An open ticket of the customer's; its notifications go to the outbox, not to Redis."""
    return make_ticket(requester=people.customer, subject="Sales team cannot see shared inbox")


def long_time(moment: datetime.datetime, end: datetime.datetime, zone: ZoneInfo) -> str:
    """A call's start and end as the pages print them in `zone` (English), e.g. "Tuesday 1
    December 2026, 10:00" and the end time, joined by an en dash."""
    start, finish = moment.astimezone(zone), end.astimezone(zone)
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M}–{finish:%H:%M}"


def first_slot(page: Any, button_css: str, not_before: datetime.datetime) -> Any:
    """The shown week's first free-time button from `not_before` on, paging forward (htmx)
    through weeks that have none."""
    week = page.get_by_test_id("week")
    for _ in range(WEEKS_TO_SEARCH):
        for button in week.locator(button_css).all():
            if parse_instant(button.get_attribute("data-start")) >= not_before:
                return button
        shown = datetime.date.fromisoformat(week.get_attribute("data-week"))
        following = (shown + datetime.timedelta(days=7)).isoformat()
        week.get_by_role("link", name="Next week").click()
        page.locator(f"[data-testid=week][data-week='{following}']").wait_for()
    pytest.fail(f"No free time in the next {WEEKS_TO_SEARCH} weeks")


def invitations_sent(count: int) -> list[EmailMultiAlternatives]:
    """The e-mails sent since the outbox was last emptied (there must be `count`); empties it."""
    sent = list(mail.outbox)
    assert len(sent) == count, [message.subject for message in sent]
    mail.outbox.clear()
    return sent  # type: ignore[return-value]


def calendar_of(message: EmailMultiAlternatives) -> Calendar:
    """The `text/calendar` alternative, after checking the attached .ics says the same."""
    [content] = [content for content, mimetype in message.alternatives if "calendar" in mimetype]
    calendar = Calendar.from_ical(content)
    [(_name, attached, _mimetype)] = message.attachments
    assert Calendar.from_ical(attached).to_ical() == calendar.to_ical()
    return calendar


def check_invitations(
    messages: list[EmailMultiAlternatives],
    people: People,
    *,
    method: str,
    booking: Booking,
    sequence: int,
) -> None:
    assert sorted(message.to[0] for message in messages) == sorted(
        [people.customer.email, people.agent.email]
    )
    for message in messages:
        calendar = calendar_of(message)
        # `method` is the customer's (REQUEST, CANCEL); the agent, who organizes the call, is
        # given it for their calendar (PUBLISH), with the same UID, SEQUENCE, times and STATUS.
        for_customer = message.to[0] == people.customer.email
        assert str(calendar["method"]) == (method if for_customer else "PUBLISH")
        [event] = calendar.walk("VEVENT")
        assert str(event["uid"]) == ical.event_uid(booking)
        assert event.decoded("sequence") == sequence
        assert event.decoded("dtstart") == booking.starts_at.astimezone(UTC)
        assert event.decoded("dtend") == booking.ends_at.astimezone(UTC)
        assert str(event["status"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")


def test_training_call_is_booked_seen_by_the_agent_moved_and_cancelled(
    live_server, page, new_page, people, ticket
):
    base = live_server.url
    mail.outbox.clear()  # opening the ticket told the agent; only the invitations count here
    training = call_type("training")
    # The journey takes seconds; a time this close to the minimum notice could pass it meanwhile.
    not_before = timezone.now() + training.minimum_notice + SAFETY_MARGIN

    # 1. The customer goes from the home page to Training's free times.
    log_in(page, base, people.customer.email)
    page.goto(f"{base}/")
    book_link = page.get_by_test_id("book-call")
    assert book_link.inner_text() == f"Book a call with {people.agent.get_short_name()}"
    book_link.click()
    page.wait_for_url(f"{base}/book/")
    page.get_by_test_id("call-type-training").get_by_role("link", name="See free times").click()
    page.wait_for_url(re.compile(r"/book/training/"))
    zone_note = page.get_by_test_id("zone").inner_text()
    assert zone_note == "Times are in your time zone, America/New_York."

    # 2. The first free time is shown in New York time, on its New York day.
    slot = first_slot(page, "button.slot", not_before)
    start_param = slot.get_attribute("data-start")
    start = parse_instant(start_param)
    end = start + training.duration
    assert slot.inner_text().strip() == f"{start.astimezone(NEW_YORK):%H:%M}"
    day = slot.locator("xpath=ancestor::li[contains(@class, 'week-day')]")
    assert day.get_attribute("data-day") == start.astimezone(NEW_YORK).date().isoformat()
    screenshot(page, "call-journey-01-free-times")
    slot.click()
    page.wait_for_url(re.compile(r"/book/training/confirm/\?"))

    # 3. The customer says what the call is about, links the ticket, and books.
    chosen = page.get_by_test_id("customer-time")
    assert chosen.inner_text() == long_time(start, end, NEW_YORK)
    assert page.get_by_test_id("call-agent").inner_text() == str(people.agent)
    page.get_by_label("Topic").fill(TOPIC)
    page.get_by_label("About a ticket (optional)").select_option(str(ticket.pk))
    screenshot(page, "call-journey-02-confirm")
    page.get_by_role("button", name="Book the call").click()
    page.wait_for_url(re.compile(r"/book/calls/\d+/$"))

    booking = Booking.objects.get(company=people.company)
    assert page.url == f"{base}/book/calls/{booking.pk}/"
    assert (booking.starts_at, booking.agent, booking.ticket) == (start, people.agent, ticket)
    assert booking.call_type.code == "training"
    assert page.get_by_test_id("status").inner_text() == "Confirmed"
    assert page.get_by_test_id("when").inner_text() == long_time(start, end, NEW_YORK)
    assert page.get_by_test_id("topic").inner_text() == TOPIC
    assert page.locator(
        ".messages li", has_text="is booked; the invitation is on its way"
    ).is_visible()
    screenshot(page, "call-journey-03-booked")
    check_invitations(invitations_sent(2), people, method="REQUEST", booking=booking, sequence=0)

    # 4. The agent finds the call in the week's calendar (in Berlin time) and opens it.
    agent_page = new_page()
    log_in(agent_page, base, people.agent.email)
    agent_zone = ZoneInfo(people.agent.time_zone)
    call_week = Week.containing(start.astimezone(agent_zone).date(), agent_zone)
    agent_page.goto(f"{base}/calendar/?week={call_week.param}")
    agent_day = start.astimezone(agent_zone).date().isoformat()
    entry = agent_page.locator(f"section.day[data-date='{agent_day}'] li.entry.call")
    assert entry.count() == 1
    entry_text = entry.inner_text()
    assert f"{start.astimezone(agent_zone):%H:%M}–{end.astimezone(agent_zone):%H:%M}" in entry_text
    assert f"{people.company.name} · {people.customer}" in entry_text
    assert TOPIC in entry_text
    screenshot(agent_page, "call-journey-04-agent-calendar")
    entry.get_by_role("link", name="Training").click()
    agent_page.wait_for_url(f"{base}/calendar/calls/{booking.pk}/")
    assert (
        agent_page.get_by_test_id("call-when")
        .inner_text()
        .startswith(long_time(start, end, agent_zone))
    )
    customer_time = agent_page.get_by_test_id("call-customer-time").inner_text()
    assert customer_time == f"{long_time(start, end, NEW_YORK)} (America/New_York)"
    assert agent_page.get_by_test_id("call-status").inner_text() == "Confirmed"
    screenshot(agent_page, "call-journey-05-agent-call")

    # 5. The customer moves the call to another free time.
    page.get_by_role("link", name="Reschedule").click()
    page.wait_for_url(f"{base}/book/calls/{booking.pk}/reschedule/")
    current = page.get_by_test_id("week").locator("span.slot.current")
    assert current.get_attribute("data-start") == start_param
    new_slot = first_slot(page, "button.slot", not_before)
    new_start = parse_instant(new_slot.get_attribute("data-start"))
    new_end = new_start + training.duration
    assert new_start != start
    screenshot(page, "call-journey-06-reschedule")
    new_slot.click()
    page.wait_for_url(f"{base}/book/calls/{booking.pk}/")
    assert page.locator(".messages li", has_text="Your call has been moved.").is_visible()
    assert page.get_by_test_id("when").inner_text() == long_time(new_start, new_end, NEW_YORK)
    screenshot(page, "call-journey-07-moved")
    booking.refresh_from_db()
    assert (booking.starts_at, booking.sequence) == (new_start, 1)
    check_invitations(invitations_sent(2), people, method="REQUEST", booking=booking, sequence=1)

    # 6. The customer cancels it, with a word for the agent.
    page.get_by_label("Message to your agent (optional)").fill("We found the answer in the docs.")
    page.get_by_role("button", name="Cancel the call").click()
    page.get_by_test_id("cancellation").wait_for()
    assert page.get_by_test_id("status").inner_text() == "Cancelled"
    assert page.get_by_test_id("cancel-message").inner_text() == "We found the answer in the docs."
    assert page.get_by_test_id("call-actions").count() == 0
    screenshot(page, "call-journey-08-cancelled")
    booking.refresh_from_db()
    assert (booking.status, booking.sequence) == (BookingStatus.CANCELLED, 2)
    check_invitations(invitations_sent(2), people, method="CANCEL", booking=booking, sequence=2)

    # 7. The agent's page of the call says so too.
    agent_page.reload()
    assert agent_page.get_by_test_id("call-status").inner_text() == "Cancelled"
    assert "We found the answer in the docs." in agent_page.locator(".cancel-message").inner_text()


def test_booking_pages_in_bulgarian(live_server, page, people):
    base = live_server.url
    people.customer.preferred_language = "bg"
    people.customer.save(update_fields=["preferred_language"])

    log_in(page, base, people.customer.email)
    page.goto(f"{base}/book/")
    page.locator("html[lang=bg]").wait_for()
    assert page.locator("text=Изход").is_visible()
    screenshot(page, "call-journey-bg-01-book")

    page.goto(f"{base}/book/training/")
    # Dates come from Django's own Bulgarian formats: "Пон 30 Ноем", not "Mon 30 Nov".
    monday = page.get_by_test_id("week").locator("li.week-day h3").first
    assert monday.inner_text().startswith("Пон ")
    screenshot(page, "call-journey-bg-02-free-times")
