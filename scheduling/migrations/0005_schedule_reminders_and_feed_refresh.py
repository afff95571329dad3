"""Celery Beat: the call-reminder scan every minute, the busy-feed refresh every 15 minutes."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    every_quarter, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="Send call reminders",
        defaults={
            "task": "scheduling.tasks.send_due_reminders",
            "interval": every_minute,
            "expire_seconds": 55,
            "enabled": True,
        },
    )
    PeriodicTask.objects.update_or_create(
        name="Refresh agents' busy-time feeds",
        defaults={
            "task": "scheduling.tasks.refresh_busy_feeds",
            "interval": every_quarter,
            "expire_seconds": 600,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_reminders_and_feeds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
