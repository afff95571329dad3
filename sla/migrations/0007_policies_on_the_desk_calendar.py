"""The VIP and Standard policies on the support desk's calendar, unless they exist already (they
do wherever 0002 ran; the test suite re-seeds a flushed database with this)."""

import importlib

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# 0002 holds the seed's table of targets and writes the policies from it.
_FIRST = importlib.import_module("sla.migrations.0002_seed_calendar_policies_and_scan")


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    SupportCalendar = apps.get_model("desk", "SupportCalendar")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaPolicyTarget = apps.get_model("sla", "SlaPolicyTarget")
    calendar = SupportCalendar.objects.filter(is_desk=True).first()
    if calendar is None:
        return
    _FIRST.create_policies(SlaPolicy, SlaPolicyTarget, calendar)


class Migration(migrations.Migration):
    dependencies = [("sla", "0006_calendars_moved_to_desk"), ("desk", "0003_seed_the_support_desk")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
