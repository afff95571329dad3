import django.db.models.deletion
import django.utils.timezone
import phonenumber_field.modelfields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_company_mail_alias"),
    ]

    operations = [
        migrations.AddField(
            model_name="agentprofile",
            name="phone_number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                help_text="The number the support line forwards calls to.",
                max_length=128,
                region=None,
                verbose_name="phone for support calls",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="phone_number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                db_index=True,
                help_text="The number this person calls from and wants to be called back on.",
                max_length=128,
                region=None,
                verbose_name="phone number",
            ),
        ),
        migrations.CreateModel(
            name="CompanyPhoneNumber",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "number",
                    phonenumber_field.modelfields.PhoneNumberField(
                        max_length=128, region=None, unique=True, verbose_name="number"
                    ),
                ),
                (
                    "label",
                    models.CharField(
                        blank=True,
                        help_text="What the line is, e.g. Switchboard.",
                        max_length=100,
                        verbose_name="label",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created at"
                    ),
                ),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phone_numbers",
                        to="accounts.company",
                        verbose_name="company",
                    ),
                ),
            ],
            options={
                "verbose_name": "company phone number",
                "verbose_name_plural": "company phone numbers",
                "ordering": ["company", "number"],
            },
        ),
    ]
