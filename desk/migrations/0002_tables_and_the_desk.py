"""The calendar tables take `desk`'s names, and one calendar is marked as the support desk's."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from desk.defaults import DESK_NAME


def mark_the_desk(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    """The seeded calendar (or the only one) is the desk's, unless one is marked already."""
    SupportCalendar = apps.get_model("desk", "SupportCalendar")
    if SupportCalendar.objects.filter(is_desk=True).exists():
        return
    calendars = SupportCalendar.objects.order_by("pk")
    desk = calendars.filter(name=DESK_NAME).first() or (
        calendars.first() if calendars.count() == 1 else None
    )
    if desk is not None:
        SupportCalendar.objects.filter(pk=desk.pk).update(is_desk=True)


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial"), ("sla", "0006_calendars_moved_to_desk")]

    operations = [
        migrations.AlterModelTable("supportcalendar", None),
        migrations.AlterModelTable("openinghours", None),
        migrations.AlterModelTable("holiday", None),
        migrations.AddField(
            model_name="supportcalendar",
            name="is_desk",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "The agent card, call times and the channels' hours follow this calendar; "
                    "SLA policies name their own."
                ),
                verbose_name="the support desk's calendar",
            ),
        ),
        migrations.AddConstraint(
            model_name="supportcalendar",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_desk", True)),
                fields=("is_desk",),
                name="one_support_desk_calendar",
                violation_error_message="Another calendar is already the support desk's.",
            ),
        ),
        migrations.RunPython(mark_the_desk, migrations.RunPython.noop),
    ]
