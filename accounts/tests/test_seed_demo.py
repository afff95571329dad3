import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import AssignmentRole, DedicatedAssignment, User

pytestmark = pytest.mark.django_db

DEMO_LOGINS = [
    "customer@acme.example",
    "basic@globex.example",
    "agent@support.example",
    "senior@support.example",
    "manager@support.example",
    "admin@support.example",
]


def snapshot():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("accounts").get_models()
    }


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    first = snapshot()

    call_command("seed_demo")

    assert snapshot() == first
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(DEMO_LOGINS)


def test_seed_demo_gives_acme_its_agents_and_passwords():
    call_command("seed_demo")

    current = {
        row.role: row.agent.email
        for row in DedicatedAssignment.objects.filter(company__name="Acme Ltd").current()
    }
    assert current == {
        AssignmentRole.DEDICATED: "agent@support.example",
        AssignmentRole.BACKUP: "senior@support.example",
    }
    for email in DEMO_LOGINS:
        assert User.objects.get(email=email).check_password("demo")
