"""A new installation's support desk (`desk.defaults`), unless there is one already."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from desk.defaults import DESK_NAME, DESK_WEEKLY, DESK_ZONE


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    SupportCalendar = apps.get_model("desk", "SupportCalendar")
    OpeningHours = apps.get_model("desk", "OpeningHours")
    if SupportCalendar.objects.filter(is_desk=True).exists():
        return
    calendar, created = SupportCalendar.objects.get_or_create(
        name=DESK_NAME, defaults={"time_zone": DESK_ZONE}
    )
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
            for weekday, intervals in DESK_WEEKLY.items()
            for opens, closes in intervals
        )
    SupportCalendar.objects.filter(pk=calendar.pk).update(is_desk=True)


class Migration(migrations.Migration):
    dependencies = [("desk", "0002_tables_and_the_desk")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
