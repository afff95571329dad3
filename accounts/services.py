"""Every write to companies, plans, add-ons and assignments; one transaction each."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import (
    AddOn,
    AddOnSubscription,
    AgentProfile,
    ApiToken,
    AssignmentRole,
    Company,
    CompanyPhoneNumber,
    DedicatedAssignment,
    Plan,
    PlanSubscription,
    Tier,
    User,
)
from accounts.selectors import company_holds_addon, desk_date
from accounts.tokens import token_hash, token_new


@transaction.atomic
def company_create(
    *,
    name: str,
    plan: Plan,
    started_on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Company:
    """A new company on `plan` from `started_on` (the desk's today by default)."""
    now = now or timezone.now()
    company = Company(name=name, mail_alias=company_free_mail_alias(name=name), created_at=now)
    company.full_clean()
    company.save()
    subscription = PlanSubscription(
        company=company, plan=plan, started_on=started_on or desk_date(now)
    )
    subscription.full_clean()
    subscription.save()
    return company


# Bulgaria's official transliteration (2009 law), so "Акме ООД" gets the alias "akme-ood".
_CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъьюя"
_LATIN = (
    *("a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o"),
    *("p", "r", "s", "t", "u", "f", "h", "ts", "ch", "sh", "sht", "a", "y", "yu", "ya"),
)
_BULGARIAN_LATIN = str.maketrans(
    dict(zip(_CYRILLIC, _LATIN, strict=True))
    | {upper.upper(): latin.capitalize() for upper, latin in zip(_CYRILLIC, _LATIN, strict=True)}
)


def company_free_mail_alias(*, name: str) -> str:
    """A mail alias made of the company's name that no other company holds yet."""
    stem = slugify(name.translate(_BULGARIAN_LATIN))[:56].strip("-") or "company"
    taken = set(
        Company.objects.filter(mail_alias__startswith=stem).values_list("mail_alias", flat=True)
    )
    alias, number = stem, 1
    while alias in taken:
        number += 1
        alias = f"{stem}-{number}"
    return alias


@transaction.atomic
def company_change_plan(
    *, company: Company, plan: Plan, on: datetime.date | None = None
) -> PlanSubscription:
    """Move a company to another plan from the desk's day `on` (today by default); refused when
    it would strand an add-on."""
    on = on or desk_date()
    Company.objects.select_for_update().get(pk=company.pk)
    current = company.plan_subscriptions.filter(ended_on__isnull=True).first()
    if current is not None and current.plan_id == plan.pk:
        return current
    new = PlanSubscription(company=company, plan=plan, started_on=on)
    # Validate the add-on rule before touching the current row, so a refusal changes nothing.
    new.full_clean(validate_constraints=False)
    if current is not None:
        if current.started_on >= on:
            raise ValidationError(
                {
                    "started_on": _(
                        "The new plan must start after %(date)s, when the current one did."
                    )
                    % {"date": current.started_on.isoformat()}
                }
            )
        current.ended_on = on
        current.full_clean()
        current.save(update_fields=["ended_on"])
    new.full_clean()
    new.save()
    return new


@transaction.atomic
def addon_subscribe(
    *,
    company: Company,
    addon: AddOn | None = None,
    starts_on: datetime.date | None = None,
) -> AddOnSubscription:
    """Give a company an add-on (the dedicated agent by default) at the add-on's current price,
    from the desk's day `starts_on` (today by default)."""
    Company.objects.select_for_update().get(pk=company.pk)
    addon = addon or AddOn.objects.get(code=AddOn.DEDICATED_AGENT)
    subscription = AddOnSubscription(
        company=company,
        addon=addon,
        monthly_price=addon.monthly_price,
        currency=addon.currency,
        starts_on=starts_on or desk_date(),
    )
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def addon_end(
    *,
    subscription: AddOnSubscription,
    ends_on: datetime.date | None = None,
    ended_by: User | None = None,
    now: datetime.datetime | None = None,
) -> None:
    """End an add-on on the desk's day `ends_on` (today by default); ending the dedicated agent
    also closes the company's open assignments, in `ended_by`'s name."""
    now = now or timezone.now()
    ends_on = ends_on or desk_date(now)
    subscription.ends_on = ends_on
    subscription.full_clean()
    subscription.save(update_fields=["ends_on"])
    if subscription.addon.code == AddOn.DEDICATED_AGENT and ends_on <= desk_date(now):
        DedicatedAssignment.objects.filter(company=subscription.company).current().update(
            valid_to=now, ended_by=ended_by
        )


def _require_agent(user: User, field: str) -> None:
    if not user.has_agent_profile:
        raise ValidationError({field: _("%(user)s is not an agent.") % {"user": user}})


@transaction.atomic
def company_assign_agents(
    *,
    company: Company,
    dedicated: User,
    backup: User | None = None,
    assigned_by: User | None = None,
    now: datetime.datetime | None = None,
) -> list[DedicatedAssignment]:
    """Make `dedicated` (and `backup`) the agents from `now`, closing the rows they replace."""
    now = now or timezone.now()
    Company.objects.select_for_update().get(pk=company.pk)
    if not company_holds_addon(company=company, at=now):
        raise ValidationError(
            _(
                "%(company)s has no active dedicated-agent add-on, so it cannot have a "
                "dedicated agent."
            )
            % {"company": company}
        )
    _require_agent(dedicated, "dedicated")
    if backup is not None:
        _require_agent(backup, "backup")
        if backup.pk == dedicated.pk:
            raise ValidationError(
                {"backup": _("The backup agent must be someone other than the dedicated agent.")}
            )
    current = {
        row.role: row for row in DedicatedAssignment.objects.filter(company=company).current()
    }
    wanted = {AssignmentRole.DEDICATED: dedicated, AssignmentRole.BACKUP: backup}
    opened = []
    for role, agent in wanted.items():
        row = current.get(role)
        if row is not None and agent is not None and row.agent_id == agent.pk:
            continue
        if row is not None:
            row.valid_to, row.ended_by = now, assigned_by
            row.save(update_fields=["valid_to", "ended_by"])
        if agent is not None:
            assignment = DedicatedAssignment(
                company=company, agent=agent, role=role, valid_from=now, assigned_by=assigned_by
            )
            assignment.full_clean()
            assignment.save()
            opened.append(assignment)
    return opened


@transaction.atomic
def agent_create(
    *, email: str, password: str | None, first_name: str, last_name: str, tier: Tier
) -> User:
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    profile = AgentProfile(user=user, tier=tier)
    profile.full_clean()
    profile.save()
    return user


def customer_create(
    *, email: str, company: Company, first_name: str = "", last_name: str = ""
) -> User:
    """A new contact of `company`, without a password (they set one by resetting it)."""
    if User.objects.filter(email__iexact=email).exists():
        message = _("Somebody already has the address %(email)s.") % {"email": email}
        raise ValidationError({"email": message})
    user = User(email=email, company=company, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def user_update_profile(
    *,
    user: User,
    first_name: str,
    last_name: str,
    language: str,
    time_zone: str,
    phone_number: str | None = None,
) -> User:
    """Change the user's name, language, time zone and (when given; "" clears it) phone number.

    The phone number may be in any notation `accounts.selectors.phone_number_parse` reads; it is
    stored in E.164.
    """
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.preferred_language = language
    user.time_zone = time_zone
    fields = ["first_name", "last_name", "preferred_language", "time_zone"]
    if phone_number is not None:
        user.phone_number = phone_number.strip()
        fields.append("phone_number")
    user.full_clean(exclude=["password"])
    user.save(update_fields=fields)
    return user


def user_set_phone_number(*, user: User, phone_number: str) -> User:
    """The number the user calls from and is called back on ("" clears it)."""
    user.phone_number = phone_number.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["phone_number"])
    return user


def agent_set_phone_number(*, agent: User, phone_number: str) -> AgentProfile:
    """The number the support line forwards the agent's calls to ("" clears it)."""
    _require_agent(agent, "agent")
    profile = agent.agent_profile
    profile.phone_number = phone_number.strip()
    profile.full_clean()
    profile.save(update_fields=["phone_number"])
    return profile


def company_add_phone_number(
    *, company: Company, number: str, label: str = "", now: datetime.datetime | None = None
) -> CompanyPhoneNumber:
    """A number `company`'s people call from that is nobody's own (a switchboard, a shared line);
    refused when a company already has it."""
    line = CompanyPhoneNumber(
        company=company,
        number=number.strip(),
        label=label.strip(),
        created_at=now or timezone.now(),
    )
    line.full_clean()
    line.save()
    return line


def user_set_language(*, user: User, language: str) -> None:
    user.preferred_language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["preferred_language"])


API_TOKEN_PREFIX = "vip_"  # noqa: S105 (a label in front of the token, not a secret)
API_TOKENS_PER_USER = 20
API_TOKEN_LIFETIMES_DAYS = (7, 30, 90, 365)


@transaction.atomic
def api_token_create(
    *, user: User, name: str, lifetime_days: int, now: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token for `user`; returns the row and the token, which is not stored and so
    can be shown only now."""
    now = now or timezone.now()
    if lifetime_days not in API_TOKEN_LIFETIMES_DAYS:
        raise ValidationError({"lifetime_days": _("Choose how long the token lasts.")})
    # Serialises two requests of one user, so neither passes the limit beside the other.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user).count() >= API_TOKENS_PER_USER:
        raise ValidationError(
            _("You have %(count)d tokens, the most allowed: revoke one you no longer use.")
            % {"count": API_TOKENS_PER_USER}
        )
    token = token_new(API_TOKEN_PREFIX)
    row = ApiToken(
        user=user,
        name=name.strip(),
        prefix=token[: len(API_TOKEN_PREFIX) + 4],
        key_hash=token_hash(token),
        created_at=now,
        expires_at=now + datetime.timedelta(days=lifetime_days),
    )
    row.full_clean()
    row.save()
    return row, token


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Turn one of the user's own tokens off at once; False when they have no such token."""
    deleted, _by_model = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0


def api_token_touch(*, token: ApiToken, now: datetime.datetime) -> None:
    """Note that the token was used, at most once a minute (not a write per request)."""
    if token.last_used_at is not None and now - token.last_used_at < datetime.timedelta(minutes=1):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
