"""Seed the support calendar, the VIP and Standard policies, and the 30-second breach scan."""

from datetime import time, timedelta

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

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
    BusinessHours = apps.get_model("sla", "BusinessHours")
    WeeklyInterval = apps.get_model("sla", "WeeklyInterval")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaPolicyTarget = apps.get_model("sla", "SlaPolicyTarget")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")

    calendar, created = BusinessHours.objects.get_or_create(
        name="Support desk Mon–Fri 09:00–17:00", defaults={"time_zone": "Europe/Berlin"}
    )
    if created:
        for weekday in range(5):
            WeeklyInterval.objects.create(
                calendar=calendar, weekday=weekday, opens=time(9), closes=time(17)
            )
    for code, name, targets in (
        ("vip", "VIP", VIP_TARGETS),
        ("standard", "Standard", STANDARD_TARGETS),
    ):
        policy, _ = SlaPolicy.objects.get_or_create(
            code=code, defaults={"name": name, "calendar": calendar}
        )
        for severity, (first, first_clock, follow_up, follow_up_clock) in targets.items():
            SlaPolicyTarget.objects.get_or_create(
                policy=policy,
                severity=severity,
                defaults={
                    "first_response": first,
                    "first_response_clock": first_clock,
                    "follow_up": follow_up,
                    "follow_up_clock": follow_up_clock,
                },
            )

    every_30_seconds, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="SLA breach scan",
        defaults={
            "task": "sla.tasks.scan_breaches",
            "interval": every_30_seconds,
            # A scan that waited longer than its interval is dropped: the next one catches up.
            "expire_seconds": 25,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
