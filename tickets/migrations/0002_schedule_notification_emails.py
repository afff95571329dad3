"""A safety net beside the on-commit task: e-mail any pending notification once a minute."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Send pending notification e-mails",
        defaults={
            "task": "tickets.tasks.send_pending_notification_emails",
            "interval": every_minute,
            "expire_seconds": 55,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
