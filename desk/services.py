"""Writes to support calendars that are more than an admin form: importing public holidays."""

from __future__ import annotations

from django.db import transaction

from desk.models import Holiday, SupportCalendar
from desk.selectors import desk_invalidate


@transaction.atomic
def holidays_import(
    *, calendar: SupportCalendar, country: str, year: int, subdivision: str | None = None
) -> tuple[int, int]:
    """Add a country's public holidays for a year; dates already present are kept as they are.
    Returns (added, already there)."""
    import holidays

    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    existing = set(calendar.holidays.filter(date__year=year).values_list("date", flat=True))
    new = [
        Holiday(calendar=calendar, date=day, name=str(name)[:100])
        for day, name in sorted(found.items())
        if day not in existing
    ]
    Holiday.objects.bulk_create(new)  # sends no post_save: forget the cached desk here
    desk_invalidate()
    transaction.on_commit(desk_invalidate)
    return len(new), len(found) - len(new)
