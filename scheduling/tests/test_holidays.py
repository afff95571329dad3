"""The support desk's holidays close it for calls too (`desk.selectors.desk_holidays`)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from desk.models import Holiday, SupportCalendar
from scheduling import selectors
from scheduling.models import DateOverride
from scheduling.tests.factories import berlin, make_booking, schedule_for, vip_people

pytestmark = pytest.mark.django_db

CHRISTMAS_EVE = datetime.date(2026, 12, 24)  # a Thursday


@pytest.fixture
def people():
    return vip_people()


@pytest.fixture
def christmas_eve():
    calendar = SupportCalendar.objects.get(is_desk=True)
    return Holiday.objects.create(calendar=calendar, date=CHRISTMAS_EVE, name="Christmas Eve")


def week_of_christmas(agent):
    return selectors.agent_calendar(
        agent=agent, start=berlin(21, 0), end=berlin(28, 0)
    ).availability


@pytest.mark.parametrize("with_schedule", [False, True])
def test_a_support_holiday_has_no_working_hours(people, christmas_eve, with_schedule):
    if with_schedule:
        schedule_for(people.agent)

    availability = week_of_christmas(people.agent)

    assert availability.intervals_on(CHRISTMAS_EVE) == ()
    assert availability.intervals_on(datetime.date(2026, 12, 23)) == (
        (datetime.time(9), datetime.time(17)),
    )


def test_a_holiday_cannot_be_booked(people, christmas_eve):
    with pytest.raises(ValidationError):
        make_booking(people, berlin(24, 10), now=berlin(21, 8))

    assert make_booking(people, berlin(23, 10), now=berlin(21, 8)).pk


def test_a_date_override_opens_a_holiday_for_an_agent(people, christmas_eve):
    schedule = schedule_for(people.agent)
    DateOverride.objects.create(
        schedule=schedule, date=CHRISTMAS_EVE, opens=datetime.time(9), closes=datetime.time(12)
    )

    availability = week_of_christmas(people.agent)

    assert availability.intervals_on(CHRISTMAS_EVE) == ((datetime.time(9), datetime.time(12)),)


def test_holidays_of_other_calendars_do_not_close_the_desk(people):
    elsewhere = SupportCalendar.objects.create(name="Sofia office", time_zone="Europe/Sofia")
    Holiday.objects.create(calendar=elsewhere, date=CHRISTMAS_EVE, name="Christmas Eve")

    assert week_of_christmas(people.agent).intervals_on(CHRISTMAS_EVE)
