"""The monthly SLA statement page: customers see their own company, managers pick any company."""

from __future__ import annotations

import datetime
import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Company, Role, User
from accounts.permissions import role_required
from sla.reports import FIRST_YEAR, LAST_YEAR
from sla.statement import statement_build, statement_companies
from vipsupport.db_router import reads_replica
from vipsupport.ids import parse_id
from vipsupport.zones import current_zone

MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only
SHOWN_VALUE_LENGTH = 20


def _month_name(month: datetime.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def _chosen_month(request: HttpRequest, current: datetime.date) -> datetime.date:
    """`?month=YYYY-MM`, or the current month with a message saying why the choice was not used."""
    value = request.GET.get("month", "").strip()
    if not value:
        return current
    match = MONTH.fullmatch(value)
    if match and 1 <= int(match[2]) <= 12 and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        chosen = datetime.date(int(match[1]), int(match[2]), 1)
        if chosen <= current:
            return chosen
        messages.warning(
            request,
            _("%(month)s has not begun yet, so it has no statement. Showing %(current)s.")
            % {"month": _month_name(chosen), "current": _month_name(current)},
        )
        return current
    messages.error(
        request,
        _(
            "“%(value)s” is not a month the statement can show: give it as YYYY-MM, "
            "for example %(example)s, from %(first_year)d on. Showing %(current)s."
        )
        % {
            "value": value[:SHOWN_VALUE_LENGTH],
            "example": current.strftime("%Y-%m"),
            "first_year": FIRST_YEAR,
            "current": _month_name(current),
        },
    )
    return current


def _company_id(value: str) -> int:
    """A company id from the query string; anything else names no company, so 404."""
    company_id = parse_id(value)
    if company_id is None:
        raise Http404
    return company_id


@role_required(Role.CUSTOMER, Role.MANAGER, Role.ADMIN)
@reads_replica
def statement(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    zone = current_zone()
    now = timezone.now()
    current = timezone.localdate(now, timezone=zone).replace(day=1)
    requested = request.GET.get("company", "").strip()
    is_customer = user.role == Role.CUSTOMER
    if is_customer:
        # Another company's id is a 404, as if no such statement existed.
        if requested and _company_id(requested) != user.company_id:
            raise Http404
        company = get_object_or_404(Company, pk=user.company_id)
    elif not requested:
        return render(
            request,
            "sla/statement.html",
            {"companies": statement_companies(on=timezone.localdate(now, timezone=zone))},
        )
    else:
        company = get_object_or_404(Company, pk=_company_id(requested))
    month = _chosen_month(request, current)
    built = statement_build(company=company, year=month.year, month=month.month, zone=zone, now=now)
    return render(
        request,
        "sla/statement.html",
        {
            "statement": built,
            "zone_name": str(zone.key),
            "company_query": "" if is_customer else f"company={company.pk}&",
            "show_next": built.next_month <= current,
            "ticket_url": "tickets:detail" if is_customer else "tickets:work",
        },
    )
