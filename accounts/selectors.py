"""Reads about companies and their dedicated agents, shared by pages and other apps."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from accounts.models import (
    AddOn,
    AddOnSubscription,
    AssignmentRole,
    Company,
    DedicatedAssignment,
    Plan,
    User,
)
from sla.business_time import BusinessCalendar

# The seed's dedicated channels: Monday to Friday, 09:00-17:00 CET (Berlin time, so CEST in summer).
SUPPORT_DESK_ZONE = "Europe/Berlin"
SUPPORT_DESK_OPENS = datetime.time(9, 0)
SUPPORT_DESK_CLOSES = datetime.time(17, 0)
SUPPORT_DESK_WEEKDAYS = range(5)


def desk_date(moment: datetime.datetime | None = None) -> datetime.date:
    """The support desk's calendar day at `moment` (now by default).

    Plans, add-ons and assignments run by the desk's days, so whether a company holds the
    add-on never depends on the zone of whoever is looking.
    """
    return (moment or timezone.now()).astimezone(ZoneInfo(SUPPORT_DESK_ZONE)).date()


@lru_cache(maxsize=1)
def support_desk_calendar() -> BusinessCalendar:
    return BusinessCalendar(
        SUPPORT_DESK_ZONE,
        {day: [(SUPPORT_DESK_OPENS, SUPPORT_DESK_CLOSES)] for day in SUPPORT_DESK_WEEKDAYS},
    )


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
class ContactHours:
    """The desk's hours this week as instants, and whether the desk is open at `at`."""

    first_open: datetime.datetime
    first_close: datetime.datetime
    last_open: datetime.datetime
    open_now: bool
    back_at: datetime.datetime | None

    @property
    def closes_next_day(self) -> bool:
        zone = timezone.get_current_timezone()
        return self.first_close.astimezone(zone).date() != self.first_open.astimezone(zone).date()


def support_desk_hours(*, at: datetime.datetime) -> ContactHours:
    """The desk's opening hours in the week of `at` and its state at `at` (DST-exact)."""
    calendar = support_desk_calendar()
    zone = ZoneInfo(SUPPORT_DESK_ZONE)
    local_day = at.astimezone(zone).date()
    monday = local_day - datetime.timedelta(days=local_day.weekday())
    last_day = monday + datetime.timedelta(days=max(SUPPORT_DESK_WEEKDAYS))
    open_now = calendar.is_open(at)
    return ContactHours(
        first_open=datetime.datetime.combine(monday, SUPPORT_DESK_OPENS, zone),
        first_close=datetime.datetime.combine(monday, SUPPORT_DESK_CLOSES, zone),
        last_open=datetime.datetime.combine(last_day, SUPPORT_DESK_OPENS, zone),
        open_now=open_now,
        back_at=None if open_now else calendar.next_opening(at),
    )


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


def agent_choices(*, active_only: bool = True) -> list[tuple[int, str]]:
    """Agents as plain (id, name) pairs, for long select lists drawn on busy pages."""
    agents = User.objects.filter(agent_profile__isnull=False)
    if active_only:
        agents = agents.filter(is_active=True)
    rows = agents.order_by("first_name", "last_name").values_list(
        "pk", "first_name", "last_name", "email"
    )
    return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email in rows]
