"""Fill a support calendar's holidays for one country and year from the `holidays` package."""

from typing import Any

import holidays
from django.core.management.base import BaseCommand, CommandError, CommandParser

from desk.models import SupportCalendar
from desk.services import holidays_import
from vipsupport.ids import parse_id


class Command(BaseCommand):
    help = "Import public holidays into a support calendar (by name or id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calendar", required=True, help="Calendar name or id.")
        parser.add_argument("--country", required=True, help="ISO 3166 code, e.g. DE or BG.")
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--subdivision", help="A state or region code, e.g. BE for Berlin.")

    def handle(self, *args: Any, **options: Any) -> None:
        lookup = options["calendar"]
        calendar = SupportCalendar.objects.filter(name=lookup).first()
        if calendar is None and (calendar_id := parse_id(lookup)) is not None:
            calendar = SupportCalendar.objects.filter(pk=calendar_id).first()
        if calendar is None:
            names = ", ".join(SupportCalendar.objects.values_list("name", flat=True))
            raise CommandError(f"No calendar {lookup!r}. Known calendars: {names}")
        country = options["country"].upper()
        if country not in holidays.list_supported_countries():
            raise CommandError(f"The holidays package knows no country {country!r}.")
        try:
            added, kept = holidays_import(
                calendar=calendar,
                country=country,
                year=options["year"],
                subdivision=options["subdivision"],
            )
        except NotImplementedError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{calendar}: added {added} holidays, {kept} were already there.")
