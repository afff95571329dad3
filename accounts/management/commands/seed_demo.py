"""Create the demo companies and logins (password "demo"); running it again changes nothing."""

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import selectors, services
from accounts.models import MANAGERS_GROUP, Company, CompanyPhoneNumber, Plan, Tier, User

PASSWORD = "demo"  # noqa: S105 - the documented demo password


class Command(BaseCommand):
    help = "Create the demo companies and users (password 'demo'). Safe to run repeatedly."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        acme = self._company("Acme Ltd", "all-inclusive")
        globex = self._company("Globex", "standard")
        agent = self._agent("agent@support.example", "Maria", "Ivanova", Tier.AGENT)
        senior = self._agent("senior@support.example", "Georgi", "Petrov", Tier.SENIOR)
        customer = self._user("customer@acme.example", "Alice", "Anderson", company=acme)
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
        self._phone_numbers(acme=acme, customer=customer, agent=agent, senior=senior)
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

    def _phone_numbers(self, *, acme: Company, customer: User, agent: User, senior: User) -> None:
        """The phone channel's demo numbers; a number somebody has already set is left alone."""
        if not customer.phone_number:
            services.user_set_phone_number(user=customer, phone_number="+359 88 123 4567")
        for staff, number in ((agent, "+359 88 765 4321"), (senior, "+359 88 555 0101")):
            if not staff.agent_profile.phone_number:
                services.agent_set_phone_number(agent=staff, phone_number=number)
        switchboard = "+359 2 491 2000"
        if not CompanyPhoneNumber.objects.filter(number=switchboard).exists():
            services.company_add_phone_number(company=acme, number=switchboard, label="Switchboard")

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
