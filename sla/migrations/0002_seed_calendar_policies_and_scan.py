"""Seed the support calendar and the VIP and Standard policies.

This migration also scheduled the 30-second breach scan in Celery Beat; the schedule now lives in
`vipsupport/beat.py`, synced to django-celery-beat's tables after every migrate.
"""

from datetime import timedelta
from typing import Any

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from desk.defaults import DESK_NAME, DESK_WEEKLY, DESK_ZONE

HOUR = timedelta(hours=1)
BUSINESS_DAY = 8 * HOUR  # one full day of the 09:00-17:00 calendar
# severity: (first response, its clock, follow-up or None, its clock), from the seed's table.
VIP_TARGETS = {
    1: (1 * HOUR, "calendar", 4 * HOUR, "calendar"),
    2: (1 * HOUR, "calendar", 4 * HOUR, "calendar"),
    3: (2 * HOUR, "business", 2 * BUSINESS_DAY, "business"),
    4: (BUSINESS_DAY, "business", None, "business"),
    5: (BUSINESS_DAY, "business", None, "business"),
}
STANDARD_TARGETS = {
    severity: (BUSINESS_DAY, "business", None, "business") for severity in range(1, 6)
}


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    BusinessHours = apps.get_model("sla", "BusinessHours")  # type: ignore[misc]  # desk.SupportCalendar now
    WeeklyInterval = apps.get_model("sla", "WeeklyInterval")  # type: ignore[misc]
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaPolicyTarget = apps.get_model("sla", "SlaPolicyTarget")

    calendar, created = BusinessHours.objects.get_or_create(
        name=DESK_NAME, defaults={"time_zone": DESK_ZONE}
    )
    if created:
        for weekday, intervals in DESK_WEEKLY.items():
            for opens, closes in intervals:
                WeeklyInterval.objects.create(
                    calendar=calendar, weekday=weekday, opens=opens, closes=closes
                )
    create_policies(SlaPolicy, SlaPolicyTarget, calendar)


def create_policies(policies: Any, targets_model: Any, calendar: Any) -> None:
    """The VIP and Standard policies and their targets on `calendar`, where missing."""
    for code, name, targets in (
        ("vip", "VIP", VIP_TARGETS),
        ("standard", "Standard", STANDARD_TARGETS),
    ):
        policy, _ = policies.objects.get_or_create(
            code=code, defaults={"name": name, "calendar": calendar}
        )
        for severity, (first, first_clock, follow_up, follow_up_clock) in targets.items():
            targets_model.objects.get_or_create(
                policy=policy,
                severity=severity,
                defaults={
                    "first_response": first,
                    "first_response_clock": first_clock,
                    "follow_up": follow_up,
                    "follow_up_clock": follow_up_clock,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
