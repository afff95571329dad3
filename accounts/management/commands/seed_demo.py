"""Create the demo companies and logins (password "demo"); running it again changes nothing."""

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import selectors, services
from accounts.models import MANAGERS_GROUP, Company, Plan, Tier, User

PASSWORD = "demo"  # noqa: S105 - the documented demo password


class Command(BaseCommand):
    help = "Create the demo companies and users (password 'demo'). Safe to run repeatedly."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        acme = self._company("Acme Ltd", "all-inclusive")
        globex = self._company("Globex", "standard")
        agent = self._agent("agent@support.example", "Maria", "Ivanova", Tier.AGENT)
        senior = self._agent("senior@support.example", "Georgi", "Petrov", Tier.SENIOR)
        self._user("customer@acme.example", "Alice", "Anderson", company=acme)
        self._user("basic@globex.example", "Bob", "Brown", company=globex)
        manager = self._user("manager@support.example", "Elena", "Dimitrova")
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        if not User.objects.filter(email="admin@support.example").exists():
            User.objects.create_superuser(
                "admin@support.example", PASSWORD, first_name="Ada", last_name="Admin"
            )
        if selectors.company_active_addon(company=acme) is None:
            services.addon_subscribe(company=acme)
        services.company_assign_agents(company=acme, dedicated=agent, backup=senior)
        self.stdout.write(self.style.SUCCESS("Demo data is ready; every password is 'demo'."))

    def _company(self, name: str, plan_code: str) -> Company:
        company = Company.objects.filter(name=name).first()
        if company is None:
            company = services.company_create(name=name, plan=Plan.objects.get(code=plan_code))
        return company

    def _user(
        self, email: str, first_name: str, last_name: str, company: Company | None = None
    ) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, PASSWORD, first_name=first_name, last_name=last_name, company=company
            )
        return user

    def _agent(self, email: str, first_name: str, last_name: str, tier: Tier) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = services.agent_create(
                email=email,
                password=PASSWORD,
                first_name=first_name,
                last_name=last_name,
                tier=tier,
            )
        return user
