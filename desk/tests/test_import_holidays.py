import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from desk.models import SupportCalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    return SupportCalendar.objects.get()


def test_imports_a_years_holidays_once(desk):
    out = StringIO()

    call_command("import_holidays", calendar=desk.name, country="BG", year=2027, stdout=out)
    call_command("import_holidays", calendar=str(desk.pk), country="bg", year=2027, stdout=out)

    dates = set(desk.holidays.values_list("date", flat=True))
    assert datetime.date(2027, 3, 3) in dates  # Liberation Day
    assert datetime.date(2027, 12, 25) in dates
    lines = out.getvalue().splitlines()
    assert lines[1].endswith(f"added 0 holidays, {len(dates)} were already there.")


def test_imported_holidays_close_the_business_clock(desk):
    call_command("import_holidays", calendar=desk.name, country="DE", year=2026, stdout=StringIO())
    clock = desk.business_calendar()

    # Thu 2026-12-24 is no German public holiday; Fri 25th and Mon 26th... Sat; so Wed 23rd
    # 16:00 + 2 business hours ends Thu 24th 10:00.
    wednesday = datetime.datetime(2026, 12, 23, 15, tzinfo=datetime.UTC)
    assert clock.add(wednesday, datetime.timedelta(hours=2)) == datetime.datetime(
        2026, 12, 24, 9, tzinfo=datetime.UTC
    )
    # Thu 24th 16:00 + 2 h skips Christmas (25th) and the weekend: Mon 28th 10:00 CET.
    thursday = datetime.datetime(2026, 12, 24, 15, tzinfo=datetime.UTC)
    assert clock.add(thursday, datetime.timedelta(hours=2)) == datetime.datetime(
        2026, 12, 28, 9, tzinfo=datetime.UTC
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"calendar": "Nope", "country": "DE", "year": 2026}, "No calendar 'Nope'"),
        ({"country": "XX", "year": 2026}, "knows no country 'XX'"),
    ],
)
def test_bad_arguments_are_explained(desk, options, message):
    options.setdefault("calendar", desk.name)

    with pytest.raises(CommandError, match=message):
        call_command("import_holidays", **options)
