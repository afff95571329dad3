"""The support calendars move here from `sla`: the tables stay, only Django's state moves (their
tables are renamed in 0002, after `sla` has handed them over)."""

import django.db.models.deletion
from django.db import migrations, models

import desk.models

ID = (
    "id",
    models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("sla", "0005_target_rebased_at")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SupportCalendar",
                    fields=[
                        ID,
                        (
                            "name",
                            models.CharField(max_length=100, unique=True, verbose_name="name"),
                        ),
                        (
                            "time_zone",
                            models.CharField(
                                default="Europe/Berlin",
                                max_length=64,
                                validators=[desk.models.validate_time_zone],
                                verbose_name="time zone",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "support calendar",
                        "verbose_name_plural": "support calendars",
                        "ordering": ["name"],
                        "db_table": "sla_businesshours",
                    },
                ),
                migrations.CreateModel(
                    name="OpeningHours",
                    fields=[
                        ID,
                        (
                            "weekday",
                            models.PositiveSmallIntegerField(
                                choices=[
                                    (0, "Monday"),
                                    (1, "Tuesday"),
                                    (2, "Wednesday"),
                                    (3, "Thursday"),
                                    (4, "Friday"),
                                    (5, "Saturday"),
                                    (6, "Sunday"),
                                ],
                                verbose_name="weekday",
                            ),
                        ),
                        ("opens", models.TimeField(verbose_name="opens")),
                        ("closes", models.TimeField(verbose_name="closes")),
                        (
                            "calendar",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="intervals",
                                to="desk.supportcalendar",
                                verbose_name="calendar",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "opening interval",
                        "verbose_name_plural": "opening intervals",
                        "ordering": ["calendar", "weekday", "opens"],
                        "db_table": "sla_weeklyinterval",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("closes__gt", models.F("opens"))),
                                name="interval_closes_after_it_opens",
                                violation_error_message="An interval must close after it opens.",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Holiday",
                    fields=[
                        ID,
                        ("date", models.DateField(verbose_name="date")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        (
                            "calendar",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="holidays",
                                to="desk.supportcalendar",
                                verbose_name="calendar",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "holiday",
                        "verbose_name_plural": "holidays",
                        "ordering": ["calendar", "date"],
                        "db_table": "sla_holiday",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("calendar", "date"), name="one_holiday_per_date"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        )
    ]
