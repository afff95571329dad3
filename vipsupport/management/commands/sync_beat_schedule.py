"""Make django-celery-beat's periodic tasks match the schedule in `vipsupport/beat.py`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS

from vipsupport.beat import beat_schedule_sync


class Command(BaseCommand):
    help = (
        "Write the Celery Beat schedule from vipsupport/beat.py to django-celery-beat's tables"
        " (migrate does it too)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the database to sync (default: default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(beat_schedule_sync(using=options["database"])))
