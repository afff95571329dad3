import django.core.validators
from django.db import migrations, models
from django.utils.text import slugify

_CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъьюя"
_LATIN = (
    *("a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o"),
    *("p", "r", "s", "t", "u", "f", "h", "ts", "ch", "sh", "sht", "a", "y", "yu", "ya"),
)
_TABLE = str.maketrans(
    dict(zip(_CYRILLIC, _LATIN, strict=True))
    | {upper.upper(): latin.capitalize() for upper, latin in zip(_CYRILLIC, _LATIN, strict=True)}
)


def fill_aliases(apps, schema_editor):
    """Every existing company gets an alias made of its name (the rule of `company_create`)."""
    Company = apps.get_model("accounts", "Company")
    taken: set[str] = set()
    for company in Company.objects.order_by("pk"):
        stem = slugify(company.name.translate(_TABLE))[:56].strip("-") or "company"
        alias, number = stem, 1
        while alias in taken:
            number += 1
            alias = f"{stem}-{number}"
        taken.add(alias)
        company.mail_alias = alias
        company.save(update_fields=["mail_alias"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_dedicated_assignment_valid_from_from_services")]

    operations = [
        migrations.AddField(
            model_name="company",
            name="mail_alias",
            field=models.SlugField(max_length=64, null=True, db_index=False),
        ),
        migrations.RunPython(fill_aliases, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="company",
            name="mail_alias",
            field=models.SlugField(
                help_text="Names the company's dedicated support address (acme → acme@vip.support.example).",
                max_length=64,
                unique=True,
                verbose_name="mail alias",
            ),
        ),
        migrations.AddField(
            model_name="company",
            name="mail_severity",
            field=models.PositiveSmallIntegerField(
                default=3,
                help_text="Tickets opened by mail to the general address start at this severity.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(5),
                ],
                verbose_name="severity of mailed tickets",
            ),
        ),
    ]
