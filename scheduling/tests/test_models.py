"""The schema's own guarantees: the PostgreSQL exclusion constraint, checks, seeded call types."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin import AdminSite
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import path, reverse

from accounts.admin import UserAdmin
from accounts.models import User
from accounts.tests.factories import UserFactory
from outbox.models import Email, EmailState
from scheduling.admin import AgentScheduleAdmin, BookingAdmin, CallTypeAdmin
from scheduling.busy import feed_busy_spans
from scheduling.models import (
    BOOKING_NO_OVERLAP,
    AgentSchedule,
    Booking,
    BookingStatus,
    BusyFeed,
    CallType,
    DateOverride,
    TimeOff,
    WeeklyHours,
)
from scheduling.tests.factories import (
    NOW,
    berlin,
    call_type,
    make_booking,
    schedule_for,
    vip_people,
)
from vipsupport import urls as project_urls

pytestmark = pytest.mark.django_db

MIN = datetime.timedelta(minutes=1)


def raw_booking(people, starts_at, *, minutes=30, status=BookingStatus.CONFIRMED, agent=None):
    """Insert a row directly, bypassing the services and their checks."""
    ends_at = starts_at + minutes * MIN
    return Booking.objects.create(
        agent=agent or people.agent,
        company=people.company,
        customer=people.customer,
        call_type=call_type(),
        topic="Raw",
        starts_at=starts_at,
        ends_at=ends_at,
        buffer_before=10 * MIN,
        buffer_after=10 * MIN,
        blocked_from=starts_at - 10 * MIN,
        blocked_until=ends_at + 10 * MIN,
        status=status,
        cancelled_at=NOW if status == BookingStatus.CANCELLED else None,
        placed_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def people():
    return vip_people()


def test_the_three_call_types_are_seeded_with_the_default_rules():
    rows = {row.code: row for row in CallType.objects.all()}

    assert [row.name for row in CallType.objects.all()] == [
        "Support call",
        "Training",
        "Analysis and discussion of changes",
    ]
    assert rows["support"].duration == 30 * MIN
    assert rows["training"].duration == rows["analysis"].duration == 60 * MIN
    for row in rows.values():
        assert (row.buffer_before, row.buffer_after) == (10 * MIN, 10 * MIN)
        assert row.minimum_notice == datetime.timedelta(hours=4)
        assert row.horizon == datetime.timedelta(days=30)
        assert row.step == 30 * MIN
        assert row.active


def test_the_exclusion_constraint_exists_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT contype FROM pg_constraint WHERE conname = %s", [BOOKING_NO_OVERLAP])
        assert cursor.fetchall() == [("x",)]


class TestNoOverlapConstraint:
    def test_an_overlapping_confirmed_row_is_refused_by_the_database(self, people):
        raw_booking(people, berlin(1, 10))

        with pytest.raises(IntegrityError, match=BOOKING_NO_OVERLAP), transaction.atomic():
            raw_booking(people, berlin(1, 10, 15))

    def test_buffers_count_as_blocked_time(self, people):
        raw_booking(people, berlin(1, 10))  # blocked 09:50-10:40

        with pytest.raises(IntegrityError), transaction.atomic():
            raw_booking(people, berlin(1, 10, 45))  # blocked from 10:35

    def test_touching_blocked_ranges_are_allowed(self, people):
        raw_booking(people, berlin(1, 10))  # blocked until 10:40
        raw_booking(people, berlin(1, 10, 50))  # blocked from 10:40

        assert Booking.objects.count() == 2

    @pytest.mark.parametrize(
        "status", [BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW]
    )
    def test_only_confirmed_bookings_block(self, people, status):
        raw_booking(people, berlin(1, 10), status=status)
        raw_booking(people, berlin(1, 10))

        assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1

    def test_confirming_a_cancelled_row_again_is_refused_when_its_time_is_taken(self, people):
        cancelled = raw_booking(people, berlin(1, 10), status=BookingStatus.CANCELLED)
        raw_booking(people, berlin(1, 10))

        with pytest.raises(IntegrityError), transaction.atomic():
            Booking.objects.filter(pk=cancelled.pk).update(status=BookingStatus.CONFIRMED)

    def test_other_agents_may_be_busy_at_the_same_time(self, people):
        raw_booking(people, berlin(1, 10))
        raw_booking(people, berlin(1, 10), agent=people.backup)

        assert Booking.objects.count() == 2


class TestBookingChecks:
    def test_a_call_must_end_after_it_starts(self, people):
        with pytest.raises(IntegrityError), transaction.atomic():
            raw_booking(people, berlin(1, 10), minutes=0)

    def test_a_cancelled_booking_records_when(self, people):
        booking = raw_booking(people, berlin(1, 10))

        with pytest.raises(IntegrityError), transaction.atomic():
            Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)

    def test_clean_requires_the_blocked_range_to_be_the_call_plus_buffers(self, people):
        booking = raw_booking(people, berlin(1, 10))
        booking.blocked_until = booking.ends_at

        with pytest.raises(ValidationError) as caught:
            booking.full_clean()
        assert "blocked_from" in caught.value.message_dict

    def test_clean_requires_the_customer_to_be_of_the_company(self, people):
        other = vip_people("Globex")
        booking = raw_booking(people, berlin(1, 10))
        booking.customer = other.customer

        with pytest.raises(ValidationError) as caught:
            booking.full_clean()
        assert "customer" in caught.value.message_dict

    def test_every_booking_gets_its_own_stable_uid(self, people):
        first = raw_booking(people, berlin(1, 10))
        second = raw_booking(people, berlin(1, 11))

        assert isinstance(first.uid, uuid.UUID)
        assert first.uid != second.uid
        first.refresh_from_db()
        assert first.uid == Booking.objects.get(pk=first.pk).uid


class TestAvailabilityRows:
    def test_weekly_hours_must_not_overlap_on_one_weekday(self, people):
        schedule = schedule_for(people.agent)  # Mon-Fri 09:00-17:00
        row = WeeklyHours(
            schedule=schedule, weekday=0, opens=datetime.time(16), closes=datetime.time(18)
        )

        with pytest.raises(ValidationError, match="overlap"):
            row.full_clean()

    def test_weekly_hours_close_after_they_open(self, people):
        row = WeeklyHours(
            schedule=schedule_for(people.agent),
            weekday=5,
            opens=datetime.time(12),
            closes=datetime.time(9),
        )

        with pytest.raises(ValidationError, match="end after they start"):
            row.full_clean()

    def test_a_date_override_is_either_a_day_off_or_hours(self, people):
        schedule = schedule_for(people.agent)
        day = datetime.date(2026, 12, 1)
        DateOverride.objects.create(schedule=schedule, date=day)

        extra = DateOverride(
            schedule=schedule, date=day, opens=datetime.time(9), closes=datetime.time(12)
        )
        with pytest.raises(ValidationError, match="day off"):
            extra.full_clean()
        with pytest.raises(ValidationError):
            DateOverride(schedule=schedule, date=day, opens=datetime.time(9)).full_clean()

    def test_a_date_override_may_have_several_intervals(self, people):
        schedule = schedule_for(people.agent)
        day = datetime.date(2026, 12, 5)
        for opens, closes in ((9, 11), (14, 16)):
            row = DateOverride(
                schedule=schedule,
                date=day,
                opens=datetime.time(opens),
                closes=datetime.time(closes),
            )
            row.full_clean()
            row.save()

        overlapping = DateOverride(
            schedule=schedule, date=day, opens=datetime.time(10), closes=datetime.time(15)
        )
        with pytest.raises(ValidationError, match="overlap"):
            overlapping.full_clean()

    def test_a_busy_feed_is_a_url_or_an_upload(self, people):
        schedule = schedule_for(people.agent)

        with pytest.raises(ValidationError, match="either a feed URL or an uploaded"):
            BusyFeed(schedule=schedule).full_clean()
        BusyFeed(schedule=schedule, url="webcal://calendar.example/agent.ics").full_clean()
        BusyFeed(schedule=schedule, uploaded_ics="BEGIN:VCALENDAR").full_clean()


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:weekly@example
DTSTART;TZID=Europe/Berlin:20261201T120000
DTEND;TZID=Europe/Berlin:20261201T130000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Team meeting
END:VEVENT
BEGIN:VEVENT
UID:free@example
DTSTART:20261202T090000Z
DTEND:20261202T100000Z
TRANSP:TRANSPARENT
SUMMARY:Shown as free
END:VEVENT
BEGIN:VEVENT
UID:allday@example
DTSTART;VALUE=DATE:20261203
DTEND;VALUE=DATE:20261204
SUMMARY:Conference
END:VEVENT
BEGIN:VEVENT
UID:floating@example
DTSTART:20261204T150000
DTEND:20261204T153000
SUMMARY:Dentist
END:VEVENT
BEGIN:VEVENT
UID:cancelled@example
DTSTART:20261204T080000Z
DTEND:20261204T090000Z
STATUS:CANCELLED
END:VEVENT
END:VCALENDAR
"""


def test_feed_busy_spans_expand_recurrences_and_skip_free_and_cancelled_events(people):
    feed = BusyFeed(schedule=schedule_for(people.agent), uploaded_ics=ICS)
    zone = ZoneInfo("Europe/Berlin")

    spans = feed_busy_spans(feed=feed, start=berlin(1, 0), end=berlin(31, 0), zone=zone)

    assert sorted(spans) == [
        (berlin(1, 12), berlin(1, 13)),
        (berlin(3, 0), berlin(4, 0)),  # all-day, in the agent's zone
        (berlin(4, 15), berlin(4, 15, 30)),  # floating time, in the agent's zone
        (berlin(8, 12), berlin(8, 13)),
        (berlin(15, 12), berlin(15, 13)),
    ]


def test_an_unreadable_feed_gives_no_busy_time(people):
    feed = BusyFeed(schedule=schedule_for(people.agent), uploaded_ics="not a calendar")

    spans = feed_busy_spans(
        feed=feed, start=berlin(1, 0), end=berlin(31, 0), zone=ZoneInfo("Europe/Berlin")
    )

    assert spans == []


# The schedule and booking admins wait for `seed_demo` to create rows before they are registered
# on the real site (see scheduling/admin.py); until then they are checked on a site of their own.
admin_site = AdminSite(name="scheduling_admin")
admin_site.register(User, UserAdmin)
admin_site.register(CallType, CallTypeAdmin)
admin_site.register(AgentSchedule, AgentScheduleAdmin)
admin_site.register(Booking, BookingAdmin)
urlpatterns = [path("scheduling-admin/", admin_site.urls), *project_urls.urlpatterns]


@pytest.mark.urls(__name__)
def test_the_schedule_and_booking_admin_pages_render(client, people):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(superuser)
    schedule = schedule_for(people.agent)
    DateOverride.objects.create(schedule=schedule, date=datetime.date(2026, 12, 1))
    BusyFeed.objects.create(schedule=schedule, url="https://calendar.example/agent.ics")
    booking = raw_booking(people, berlin(1, 10))

    for model, row in ((AgentSchedule, schedule), (Booking, booking)):
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("scheduling_admin:{}_{}_changelist".format(*info))
        assert client.get(changelist).status_code == 200
        assert client.get(changelist, {"q": "a"}).status_code == 200
        change = reverse("scheduling_admin:{}_{}_change".format(*info), args=[row.pk])
        assert client.get(change).status_code == 200
    add = reverse("scheduling_admin:scheduling_agentschedule_add")
    assert client.get(add).status_code == 200
    assert client.get(reverse("scheduling_admin:scheduling_booking_add")).status_code == 403


@pytest.mark.urls(__name__)
def test_the_booking_admin_shows_the_bookings_e_mails_in_the_outbox(client, people):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    booking = make_booking(people, berlin(1, 10))
    other = make_booking(people, berlin(2, 10))
    Email.objects.filter(topic__startswith=f"booking:{booking.pk}:").update(
        state=EmailState.FAILED, last_error="550 mailbox unavailable"
    )

    change = reverse("scheduling_admin:scheduling_booking_change", args=[booking.pk])
    page = client.get(change).content.decode()

    assert page.count(f"<td>booking:{booking.pk}:invitation</td>") == 2
    assert f"<td>{people.customer.email}</td>" in page
    assert "550 mailbox unavailable" in page
    assert "<td>Failed</td>" in page
    assert f"booking:{other.pk}:" not in page
    outbox = reverse("admin:outbox_email_changelist")
    assert f'href="{outbox}?q=booking%3A{booking.pk}%3A"' in page


@pytest.mark.urls(__name__)
def test_a_schedule_added_without_hours_gets_the_support_desk_hours(client, people):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    form = {"agent": people.backup.pk, "time_zone": "Europe/Sofia", "max_calls_per_day": 3}
    for prefix in ("weekly_hours", "date_overrides", "time_off", "busy_feeds"):
        form |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}

    response = client.post(reverse("scheduling_admin:scheduling_agentschedule_add"), form)

    assert response.status_code == 302, response.context["errors"]
    schedule = AgentSchedule.objects.get(agent=people.backup)
    assert (schedule.time_zone, schedule.max_calls_per_day) == ("Europe/Sofia", 3)
    assert schedule.weekly_hours.count() == 5


UTC = datetime.UTC


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        (datetime.datetime(1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")), berlin(7, 13), "starts_at"),
        # In UTC this is already the year 10000.
        (
            berlin(7, 9),
            datetime.datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("America/New_York")),
            "ends_at",
        ),
        (datetime.datetime(1999, 12, 31, 23, 59, tzinfo=UTC), berlin(7, 13), "starts_at"),
        (berlin(7, 9), datetime.datetime(2100, 1, 1, tzinfo=UTC), "ends_at"),
    ],
    ids=["year-1", "year-9999-in-new-york", "just-before-2000", "year-2100"],
)
def test_time_off_beyond_a_sane_range_is_refused(people, starts_at, ends_at, field):
    row = TimeOff(schedule=schedule_for(people.agent), starts_at=starts_at, ends_at=ends_at)

    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    assert caught.value.message_dict == {
        field: ["Time off must lie between the years 2000 and 2099."]
    }


def test_time_off_at_the_ends_of_the_range_is_kept_and_read_back(people):
    first, last = (
        datetime.datetime(2000, 1, 1, tzinfo=UTC),
        datetime.datetime(2099, 12, 31, 23, 59, tzinfo=UTC),
    )
    row = TimeOff(schedule=schedule_for(people.agent), starts_at=first, ends_at=last)
    row.full_clean()
    row.save()

    assert TimeOff.objects.values_list("starts_at", "ends_at").get() == (first, last)
