"""Reads about companies and their dedicated agents, shared by pages and other apps."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from accounts.models import (
    AddOn,
    AddOnSubscription,
    AssignmentRole,
    Company,
    DedicatedAssignment,
    Plan,
    User,
)
from desk.selectors import desk_date


def company_current_plan(*, company: Company) -> Plan | None:
    subscription = (
        company.plan_subscriptions.filter(ended_on__isnull=True).select_related("plan").first()
    )
    return subscription.plan if subscription else None


def company_active_addon(
    *, company: Company, on: datetime.date | None = None
) -> AddOnSubscription | None:
    """The company's dedicated-agent add-on in force on the desk's day `on` (today by default)."""
    return (
        AddOnSubscription.objects.filter(company=company, addon__code=AddOn.DEDICATED_AGENT)
        .active_on(on or desk_date())
        .select_related("addon")
        .first()
    )


def dedicated_agent_addon() -> AddOn | None:
    return AddOn.objects.prefetch_related("plans").filter(code=AddOn.DEDICATED_AGENT).first()


@dataclass(frozen=True)
class DedicatedContact:
    """Who a VIP customer should talk to right now."""

    agent: User
    role: AssignmentRole
    standing_in_for: User | None
    away_until: datetime.datetime | None


def company_dedicated_contact(
    *, company: Company, at: datetime.datetime
) -> DedicatedContact | None:
    """The dedicated agent, or the backup while the dedicated agent is away or unassigned."""
    rows = {
        row.role: row
        for row in DedicatedAssignment.objects.filter(company=company)
        .current()
        .select_related("agent__agent_profile")
    }
    dedicated = rows.get(AssignmentRole.DEDICATED)
    backup = rows.get(AssignmentRole.BACKUP)
    if dedicated is not None and not dedicated.agent.agent_profile.is_away(at):
        return DedicatedContact(dedicated.agent, AssignmentRole.DEDICATED, None, None)
    if backup is not None and not backup.agent.agent_profile.is_away(at):
        return DedicatedContact(
            backup.agent,
            AssignmentRole.BACKUP,
            dedicated.agent if dedicated is not None else None,
            None,
        )
    if dedicated is not None:
        profile = dedicated.agent.agent_profile
        return DedicatedContact(dedicated.agent, AssignmentRole.DEDICATED, None, profile.away_until)
    return None


@dataclass(frozen=True)
class AddonOverviewRow:
    company: Company
    subscription: AddOnSubscription
    dedicated: User | None
    backup: User | None


@dataclass(frozen=True)
class AddonOverview:
    rows: list[AddonOverviewRow]
    monthly_revenue: dict[str, Decimal]


def addon_overview(*, on: datetime.date | None = None) -> AddonOverview:
    """Companies holding the dedicated-agent add-on, their agents, and its monthly revenue."""
    day = on or desk_date()
    subscriptions = list(
        AddOnSubscription.objects.filter(addon__code=AddOn.DEDICATED_AGENT)
        .active_on(day)
        .select_related("company")
        .order_by("company__name")
    )
    current = DedicatedAssignment.objects.filter(
        company_id__in=[row.company_id for row in subscriptions]
    ).current()
    agents: dict[tuple[int, str], User] = {
        (row.company_id, row.role): row.agent for row in current.select_related("agent")
    }
    revenue = dict(
        AddOnSubscription.objects.filter(pk__in=[row.pk for row in subscriptions])
        .values_list("currency")
        .annotate(total=Sum("monthly_price"))
        .order_by("currency")
    )
    return AddonOverview(
        rows=[
            AddonOverviewRow(
                row.company,
                row,
                agents.get((row.company_id, AssignmentRole.DEDICATED)),
                agents.get((row.company_id, AssignmentRole.BACKUP)),
            )
            for row in subscriptions
        ],
        monthly_revenue=revenue,
    )


def agents_active() -> QuerySet[User]:
    """The agents who can take tickets, by name."""
    return User.objects.filter(agent_profile__isnull=False, is_active=True).order_by(
        "first_name", "last_name"
    )


def agent_choices(*, active_only: bool = True) -> list[tuple[int, str]]:
    """Agents as plain (id, name) pairs, for long select lists drawn on busy pages."""
    agents = User.objects.filter(agent_profile__isnull=False)
    if active_only:
        agents = agents.filter(is_active=True)
    rows = agents.order_by("first_name", "last_name").values_list(
        "pk", "first_name", "last_name", "email"
    )
    return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email in rows]
