"""Reads about companies and their dedicated agents, shared by pages and other apps."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber, to_python

from accounts.models import (
    ADMINISTRATORS_GROUP,
    MANAGERS_GROUP,
    AddOn,
    AddOnSubscription,
    ApiToken,
    AssignmentRole,
    Company,
    CompanyPhoneNumber,
    DedicatedAssignment,
    Plan,
    User,
)
from accounts.tokens import TOKEN_MAX_LENGTH, token_hash
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


def companies_holding_addon(*, company_ids: Iterable[int], on: datetime.date) -> set[int]:
    """Which of these companies hold the dedicated-agent add-on on the desk's day `on`; one
    query (none for no companies)."""
    ids = set(company_ids)
    if not ids:
        return set()
    return set(
        AddOnSubscription.objects.filter(company_id__in=ids, addon__code=AddOn.DEDICATED_AGENT)
        .active_on(on)
        .values_list("company_id", flat=True)
    )


def company_holds_addon(*, company: Company, at: datetime.datetime) -> bool:
    """Whether the company holds the dedicated-agent add-on on the desk's day of `at`."""
    return company_active_addon(company=company, on=desk_date(at)) is not None


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
    return dedicated_contact_of(agents=company_assigned_agents(company_id=company.pk), at=at)


def dedicated_contact_of(
    *, agents: dict[str, User], at: datetime.datetime
) -> DedicatedContact | None:
    """`company_dedicated_contact` from a company's agents already read
    (`companies_assigned_agents`)."""
    dedicated = agents.get(AssignmentRole.DEDICATED)
    backup = agents.get(AssignmentRole.BACKUP)
    if dedicated is not None and not dedicated.agent_profile.is_away(at):
        return DedicatedContact(dedicated, AssignmentRole.DEDICATED, None, None)
    if backup is not None and not backup.agent_profile.is_away(at):
        return DedicatedContact(backup, AssignmentRole.BACKUP, dedicated, None)
    if dedicated is not None:
        profile = dedicated.agent_profile
        return DedicatedContact(dedicated, AssignmentRole.DEDICATED, None, profile.away_until)
    return None


def company_assigned_agents(*, company_id: int) -> dict[str, User]:
    """The company's current dedicated and backup agents by role, with their profiles; one
    query."""
    return companies_assigned_agents(company_ids=[company_id]).get(company_id, {})


def companies_assigned_agents(*, company_ids: Iterable[int]) -> dict[int, dict[str, User]]:
    """`company_assigned_agents` of many companies, in one query (none for no companies)."""
    ids = set(company_ids)
    agents: dict[int, dict[str, User]] = {}
    if not ids:
        return agents
    for row in (
        DedicatedAssignment.objects.filter(company_id__in=ids)
        .current()
        .select_related("agent__agent_profile")
    ):
        agents.setdefault(row.company_id, {})[row.role] = row.agent
    return agents


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


def phone_number_parse(*, number: str) -> PhoneNumber | None:
    """`number` as a valid phone number, or None.

    Reads E.164 ("+35924001234") and every notation phonenumbers knows ("+359 2 400 1234",
    "tel:+359-2-400-1234"); a number without its +country code is read in the
    PHONENUMBER_DEFAULT_REGION ("02 400 1234" in Bulgaria).
    """
    parsed = to_python(number.strip(), region=settings.PHONENUMBER_DEFAULT_REGION)
    if isinstance(parsed, PhoneNumber) and parsed.is_valid():
        return parsed
    return None


def support_phone_number() -> PhoneNumber | None:
    """The support line customers call (SUPPORT_PHONE_NUMBER), or None when it is unset."""
    return phone_number_parse(number=settings.SUPPORT_PHONE_NUMBER or "")


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as their number tells: a person (and their company), only a
    company (a switchboard, a shared line), or nobody the portal knows (both None)."""

    company: Company | None
    user: User | None


def caller_identify(*, number: str) -> Caller:
    """Who calls from `number` (E.164 or any notation `phone_number_parse` reads); two queries.

    An active customer whose profile has the number is the caller, with their company. When
    several customers share it, a company they all belong to is still known, but not the person;
    when they belong to different companies, the number tells nothing about them. Otherwise the
    company whose phone numbers list it is calling. Staff never match: their calls are not a
    customer's. An unreadable number is nobody's.
    """
    parsed = phone_number_parse(number=number)
    if parsed is None:
        return Caller(company=None, user=None)
    customers = list(
        User.objects.filter(
            phone_number=parsed,
            is_active=True,
            company__isnull=False,
            is_staff=False,
            is_superuser=False,
        )
        .exclude(groups__name__in=[MANAGERS_GROUP, ADMINISTRATORS_GROUP])
        .select_related("company")
        .order_by("pk")
    )
    companies = {customer.company_id for customer in customers}
    if len(customers) == 1:
        return Caller(company=customers[0].company, user=customers[0])
    if len(companies) == 1:
        return Caller(company=customers[0].company, user=None)
    line = CompanyPhoneNumber.objects.filter(number=parsed).select_related("company").first()
    return Caller(company=line.company if line else None, user=None)


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's API tokens, newest first (expired ones too, until revoked)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_find(*, key: str, now: datetime.datetime) -> ApiToken | None:
    """The unexpired token of an active user with this key, its user loaded; None otherwise."""
    if not key or len(key) > TOKEN_MAX_LENGTH:
        return None
    return (
        ApiToken.objects.select_related("user__company", "user__agent_profile")
        .prefetch_related("user__groups")  # the user's role is read from them
        .filter(key_hash=token_hash(key), expires_at__gt=now, user__is_active=True)
        .first()
    )


def assignment_change_message(
    *, role: AssignmentRole | str, old: User | None, new: User | None
) -> str:
    """One role's change, in the active language: "Dedicated agent: Maria Ivanova → Ivan Petrov"."""
    return _("%(role)s: %(old)s → %(new)s") % {
        "role": AssignmentRole(role).label,
        "old": old or "—",
        "new": new or "—",
    }


def audit_people_choices() -> list[tuple[int, str]]:
    """Everyone who can change things in the admin or assign agents, as (id, "Name <e-mail>")."""
    people = User.objects.filter(
        Q(is_staff=True)
        | Q(is_superuser=True)
        | Q(groups__name__in=[ADMINISTRATORS_GROUP, MANAGERS_GROUP])
    ).distinct()
    rows = people.order_by("first_name", "last_name", "email").values_list(
        "pk", "first_name", "last_name", "email"
    )
    return [
        (pk, f"{first} {last} <{email}>".strip() if first or last else email)
        for pk, first, last, email in rows
    ]


def user_colleagues(*, user: User) -> QuerySet[User]:
    """The other active members of the user's company (whom a new ticket may copy); staff have
    none."""
    if user.company_id is None:
        return User.objects.none()
    return User.objects.filter(company_id=user.company_id, is_active=True).exclude(pk=user.pk)
