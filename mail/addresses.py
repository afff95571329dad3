"""Our addresses: the general support address and each company's dedicated one, read from the
settings when asked (never at import)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Company
from accounts.selectors import companies_holding_addon
from desk.selectors import desk_date


@dataclass(frozen=True)
class Route:
    """Which of our addresses a message was for, and so whose it is and how it is served."""

    address: str
    company: Company | None  # known from a dedicated address; None for the general one
    dedicated: bool  # a dedicated address of a company holding the add-on that day


def general_address() -> str:
    return str(settings.MAIL_GENERAL_ADDRESS).lower()


def dedicated_address(*, company: Company) -> str:
    """The company's own address, in the configured style."""
    if settings.MAIL_DEDICATED_STYLE == "plus":
        local, domain = general_address().split("@", 1)
        return f"{local}+{company.mail_alias}@{domain}"
    return f"{company.mail_alias}@{settings.MAIL_DEDICATED_DOMAIN}".lower()


def _alias_of(address: str) -> str | None:
    """The company alias an address names, in either style (a mailbox may receive both)."""
    local, _, domain = address.lower().partition("@")
    general_local, _, general_domain = general_address().partition("@")
    if domain == str(settings.MAIL_DEDICATED_DOMAIN).lower():
        return local
    if domain == general_domain and local.startswith(f"{general_local}+"):
        return local.removeprefix(f"{general_local}+")
    return None


def is_our_address(address: str) -> bool:
    return address.lower() == general_address() or _alias_of(address) is not None


def mail_route(*, addresses: Iterable[str], at: datetime.datetime) -> Route:
    """The first dedicated address among `addresses` that names a company, else the general
    address (also for mail that reached our mailbox addressed to someone else: a Bcc)."""
    return mail_routes(requests=[(addresses, at)])[0]


def mail_routes(*, requests: Sequence[tuple[Iterable[str], datetime.datetime]]) -> list[Route]:
    """`mail_route` of many messages (their addresses, received at): one query for the companies
    their addresses name and one for which of them hold the add-on, however many messages."""
    found: list[dict[str, str]] = [
        {
            address: alias
            for address in (candidate.lower() for candidate in addresses)
            if (alias := _alias_of(address))
        }
        for addresses, _at in requests
    ]
    wanted = {alias for aliases in found for alias in aliases.values()}
    companies = (
        {company.mail_alias: company for company in Company.objects.filter(mail_alias__in=wanted)}
        if wanted
        else {}
    )
    named: list[tuple[str, Company] | None] = [
        next(
            (
                (address, companies[alias])
                for address, alias in aliases.items()
                if alias in companies
            ),
            None,
        )
        for aliases in found
    ]
    days: dict[datetime.date, set[int]] = {}
    for match, (_addresses, at) in zip(named, requests, strict=True):
        if match is not None:
            days.setdefault(desk_date(at), set()).add(match[1].pk)
    holding = {
        day: companies_holding_addon(company_ids=company_ids, on=day)
        for day, company_ids in days.items()
    }
    routes = []
    for match, (_addresses, at) in zip(named, requests, strict=True):
        if match is None:
            routes.append(Route(address=general_address(), company=None, dedicated=False))
            continue
        address, company = match
        dedicated = company.pk in holding[desk_date(at)]
        routes.append(Route(address=address, company=company, dedicated=dedicated))
    return routes


def mail_recipient_allowed(address: str) -> bool:
    """Whether the SMTP receiver accepts mail for `address`: the general address or the dedicated
    address of an existing company."""
    alias = _alias_of(address)
    if alias is None:
        return address.lower() == general_address()
    return Company.objects.filter(mail_alias=alias).exists()
