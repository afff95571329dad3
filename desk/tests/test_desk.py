"""The support desk read in one place: open now, next opening, hours in any zone; and an admin's
change to its hours or holidays is what every reader sees next."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import UserFactory
from desk.models import Holiday, OpeningHours, SupportCalendar
from desk.selectors import (
    desk_clock,
    desk_date,
    desk_holidays,
    desk_hours,
    desk_weekly_hours,
    desk_zone,
)
from desk.services import holidays_import

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def desk() -> SupportCalendar:
    return SupportCalendar.objects.get(is_desk=True)


def test_a_new_installation_has_the_service_descriptions_desk(desk):
    assert desk.time_zone == "Europe/Berlin"
    assert desk_weekly_hours() == {
        day: ((datetime.time(9), datetime.time(17)),) for day in range(5)
    }
    assert desk_zone() == BERLIN


@pytest.mark.parametrize(
    ("zone", "at", "local"),
    [
        ("Europe/Berlin", berlin(2027, 3, 16, 12), "Mon–Fri 09:00–17:00"),
        ("America/New_York", berlin(2027, 3, 16, 12), "Mon–Fri 04:00–12:00"),
        ("Asia/Kathmandu", berlin(2027, 3, 16, 12), "Mon–Fri 13:45–21:45"),
        ("Pacific/Honolulu", berlin(2027, 3, 16, 12), "Sun–Thu 22:00–06:00 (next day)"),
    ],
)
def test_the_hours_in_words_in_the_desks_zone_and_the_viewers(zone, at, local):
    with translation.override("en"):
        hours = desk_hours(at=at, zone=ZoneInfo(zone))

    assert hours.summary == "Mon–Fri 09:00–17:00 CET"
    assert hours.local_summary == local


def test_days_with_other_hours_are_named_apart(desk):
    OpeningHours.objects.filter(calendar=desk, weekday=4).update(closes=datetime.time(15))
    OpeningHours.objects.create(
        calendar=desk, weekday=5, opens=datetime.time(10), closes=datetime.time(12)
    )
    desk.save()  # an admin's save of the calendar page

    with translation.override("en"):
        hours = desk_hours(at=berlin(2027, 3, 16, 12), zone=BERLIN)

    assert hours.summary == "Mon–Thu 09:00–17:00, Fri 09:00–15:00, Sat 10:00–12:00 CET"


def test_the_hours_read_in_bulgarian():
    with translation.override("bg"):
        hours = desk_hours(at=berlin(2027, 3, 16, 12), zone=BERLIN)

    assert hours.local_summary == "Пон–Пет 09:00–17:00"


def test_open_now_and_the_next_opening_count_holidays(desk):
    Holiday.objects.create(calendar=desk, date=datetime.date(2027, 3, 22), name="Closed")

    friday_evening = desk_hours(at=berlin(2027, 3, 19, 17, 30), zone=BERLIN)
    monday_holiday = desk_hours(at=berlin(2027, 3, 22, 10), zone=BERLIN)

    assert (friday_evening.open_now, friday_evening.next_opening) == (False, berlin(2027, 3, 23, 9))
    assert (monday_holiday.open_now, monday_holiday.next_opening) == (False, berlin(2027, 3, 23, 9))
    assert desk_holidays(start=datetime.date(2027, 3, 1), end=datetime.date(2027, 3, 31)) == {
        datetime.date(2027, 3, 22)
    }


def test_the_desks_day_is_its_own_zones():
    # 23:30 UTC on the 6th is already the 7th in Berlin.
    assert desk_date(datetime.datetime(2026, 12, 6, 23, 30, tzinfo=UTC)) == datetime.date(
        2026, 12, 7
    )


def test_an_admins_change_is_what_the_next_reader_sees(client, desk):
    before = desk_clock()
    assert before.is_open(berlin(2027, 3, 15, 8, 30)) is False
    interval = OpeningHours.objects.get(calendar=desk, weekday=0)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = {
        "name": desk.name,
        "time_zone": desk.time_zone,
        "is_desk": "on",
        "intervals-TOTAL_FORMS": "1",
        "intervals-INITIAL_FORMS": "1",
        "intervals-0-id": str(interval.pk),
        "intervals-0-calendar": str(desk.pk),
        "intervals-0-weekday": "0",
        "intervals-0-opens": "08:00",
        "intervals-0-closes": "17:00",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
    }

    response = client.post(reverse("admin:desk_supportcalendar_change", args=[desk.pk]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert desk_clock().is_open(berlin(2027, 3, 15, 8, 30)) is True


def test_imported_holidays_are_what_the_next_reader_sees(desk):
    assert desk_clock().is_open(berlin(2027, 10, 4, 10)) is True  # a Monday

    holidays_import(calendar=desk, country="DE", year=2027)

    # 3 October 2027 (German Unity Day) is a Sunday; the 4th is not a holiday in Germany.
    assert desk_clock().is_open(berlin(2027, 10, 4, 10)) is True
    assert desk_holidays(start=datetime.date(2027, 12, 25), end=datetime.date(2027, 12, 26)) == {
        datetime.date(2027, 12, 25),
        datetime.date(2027, 12, 26),
    }


def test_only_one_calendar_is_the_desks(desk):
    with pytest.raises(IntegrityError):
        SupportCalendar.objects.create(name="Sofia office", time_zone="Europe/Sofia", is_desk=True)
