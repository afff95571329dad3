"""Seed the three call types customers can book (admins edit them afterwards)."""

from datetime import timedelta

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils.translation import gettext_noop

MINUTES = timedelta(minutes=1)
CALL_TYPES = [
    # (code, name, position, duration); names marked so `CallType.__str__` finds a translation.
    ("support", gettext_noop("Support call"), 1, 30 * MINUTES),
    ("training", gettext_noop("Training"), 2, 60 * MINUTES),
    ("analysis", gettext_noop("Analysis and discussion of changes"), 3, 60 * MINUTES),
]


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    CallType = apps.get_model("scheduling", "CallType")
    for code, name, position, duration in CALL_TYPES:
        CallType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "position": position,
                "duration": duration,
                "buffer_before": 10 * MINUTES,
                "buffer_after": 10 * MINUTES,
                "minimum_notice": timedelta(hours=4),
                "horizon": timedelta(days=30),
                "step": 30 * MINUTES,
                "active": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_booking_no_overlap")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
