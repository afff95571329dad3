"""The support calendars now belong to `desk`: policies and targets point at its model. Only
Django's state changes here; the tables and their foreign keys stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


def calendar_field() -> models.ForeignKey:
    return models.ForeignKey(
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="desk.supportcalendar",
        verbose_name="calendar",
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_target_rebased_at"), ("desk", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("slapolicy", "calendar", calendar_field()),
                migrations.AlterField("slatarget", "calendar", calendar_field()),
                migrations.DeleteModel("Holiday"),
                migrations.DeleteModel("WeeklyInterval"),
                migrations.DeleteModel("BusinessHours"),
            ],
            database_operations=[],
        )
    ]
