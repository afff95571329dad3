"""Our addresses: the general support address and each company's dedicated one, read from the
settings when asked (never at import)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Company
from accounts.selectors import company_holds_addon


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
    candidates = [address.lower() for address in addresses]
    aliases = {address: alias for address in candidates if (alias := _alias_of(address))}
    if aliases:
        companies = {
            company.mail_alias: company
            for company in Company.objects.filter(mail_alias__in=set(aliases.values()))
        }
        for address, alias in aliases.items():
            company = companies.get(alias)
            if company is not None:
                dedicated = company_holds_addon(company=company, at=at)
                return Route(address=address, company=company, dedicated=dedicated)
    return Route(address=general_address(), company=None, dedicated=False)


def mail_recipient_allowed(address: str) -> bool:
    """Whether the SMTP receiver accepts mail for `address`: the general address or the dedicated
    address of an existing company."""
    alias = _alias_of(address)
    if alias is None:
        return address.lower() == general_address()
    return Company.objects.filter(mail_alias=alias).exists()
