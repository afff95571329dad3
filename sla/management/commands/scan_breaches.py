"""Run one SLA scan now and say what it did."""

from typing import Any

from django.core.management.base import BaseCommand

from sla.services import sla_scan


class Command(BaseCommand):
    help = "Warn and breach every due SLA target once (what Celery Beat runs every 30 s)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sla_scan()
        self.stdout.write(
            f"warned {result.warned}, breached {result.breached}, escalated {result.escalated}"
        )
