"""Bookings remember when their time was chosen; existing ones were chosen when booked."""

import django.utils.timezone
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def placed_when_booked(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Booking = apps.get_model("scheduling", "Booking")
    Booking.objects.update(placed_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0005_schedule_reminders_and_feed_refresh")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="placed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="time chosen at"
            ),
        ),
        migrations.RunPython(placed_when_booked, migrations.RunPython.noop),
    ]
