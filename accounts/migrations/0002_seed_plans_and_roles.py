"""Seed the plans, the dedicated-agent add-on and the staff role groups."""

from decimal import Decimal

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

PLANS = [
    # (code, name, monthly price, rank, offers the dedicated agent)
    ("standard", "Standard", Decimal("199.00"), 1, False),
    ("all-inclusive", "All-inclusive", Decimal("499.00"), 2, True),
]


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from django.contrib.auth.management import create_permissions

    AddOn = apps.get_model("accounts", "AddOn")
    Plan = apps.get_model("accounts", "Plan")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    addon, _ = AddOn.objects.get_or_create(
        code="dedicated-agent",
        defaults={
            "name": "Dedicated support agent",
            "monthly_price": Decimal("1000.00"),
            "currency": "EUR",
        },
    )
    for code, name, price, rank, offers_addon in PLANS:
        plan, _ = Plan.objects.get_or_create(
            code=code,
            defaults={"name": name, "monthly_price": price, "currency": "EUR", "rank": rank},
        )
        if offers_addon:
            plan.addons.add(addon)

    # Permissions are normally created after migrate; the groups need them now. (The test suite
    # calls this with the live registry, after post_migrate has made them.)
    if apps is not global_apps:
        for app_config in apps.get_app_configs():
            app_config.models_module = True  # type: ignore[assignment]
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
    accounts_permissions = Permission.objects.filter(content_type__app_label="accounts")
    managers, _ = Group.objects.get_or_create(name="Managers")
    managers.permissions.add(
        *accounts_permissions.filter(codename__regex=r"^view_"),
    )
    administrators, _ = Group.objects.get_or_create(name="Administrators")
    administrators.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["accounts", "auth"])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
