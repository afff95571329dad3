"""Managers' reports: the SLA report, its CSV, and the add-on overview."""

from __future__ import annotations

import csv
import datetime
import itertools
import logging
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Company
from accounts.permissions import MANAGING_ROLES, role_required
from accounts.selectors import addon_overview, agent_choices
from sla.charts import trend_chart
from sla.forms import ReportForm
from sla.reports import BREACH_ORDERINGS, report_breaches, report_build, report_targets
from vipsupport.db_router import current_read_alias, reads_replica
from vipsupport.zones import current_zone

logger = logging.getLogger(__name__)

managers_only = role_required(*MANAGING_ROLES)


@managers_only
def reports(request: HttpRequest) -> HttpResponse:
    """The managers' landing page: the add-on overview and the way into the SLA report."""
    return render(request, "sla/reports.html", {"overview": addon_overview()})


def _form(request: HttpRequest, now: datetime.datetime) -> ReportForm:
    """The report's filters. Without a period, days given mean "custom" and none "this month",
    so a hand-made link (`?first=…`, `?company=3`) is read as meant, not refused."""
    data = request.GET.copy()
    if not data.get("period"):
        data["period"] = "custom" if data.get("first") or data.get("last") else "this_month"
    return ReportForm(data, zone=current_zone(), today=timezone.localdate(now))


def _choices() -> dict[str, list[tuple[int, str]]]:
    """Plain (id, name) pairs for the long company and agent lists."""
    return {
        "company_choices": list(Company.objects.order_by("name").values_list("pk", "name")),
        # Past reports name agents who have since left, so inactive ones stay in the list.
        "agent_choices": agent_choices(active_only=False),
    }


@managers_only
@reads_replica
def sla_report(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = _form(request, now)
    if not form.is_valid():
        return render(request, "sla/sla_report.html", {"form": form, **_choices()}, status=400)
    filters = form.filters()
    report = report_build(filters=filters)
    ordering = request.GET.get("sort", "-due")
    breaches = report_breaches(targets=report_targets(filters=filters), now=now, ordering=ordering)
    page = Paginator(breaches, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in ("sort", "page"):
        query.pop(key, None)
    return render(
        request,
        "sla/sla_report.html",
        {
            "form": form,
            **_choices(),
            "report": report,
            "chart": trend_chart(report.trend),
            "breaches": page,
            "sort": ordering if ordering in BREACH_ORDERINGS else "-due",
            "query": query.urlencode(),
            "now": now,
        },
    )


CSV_INCOMPLETE = "ERROR: the export failed part-way; this file is incomplete. Download it again."


def _csv_row(record: tuple[Any, ...]) -> list[Any]:
    ticket, company, severity, kind, due, answered, overdue, agent = record
    return [
        ticket,
        company,
        severity,
        kind,
        due.isoformat(),
        answered.isoformat() if answered else "",
        int(overdue.total_seconds() // 60),
        agent or "",
    ]


class _Echo:
    """A file-like object that hands back what csv.writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "ticket",
    "company",
    "severity",
    "metric",
    "due_at_utc",
    "answered_at_utc",
    "overdue_minutes",
    "agent",
]


@managers_only
@reads_replica
def breaches_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The breaches under the report's filters, streamed row by row (UTC times, ISO 8601)."""
    now = timezone.now()
    form = _form(request, now)
    if not form.is_valid():
        errors = "; ".join(
            str(message) for messages in form.errors.values() for message in messages
        )
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    # The rows are fetched while the file streams, after the view has returned: pin the query to
    # the connection the view reads from (the server-side cursor opens below, in the view).
    breaches = (
        report_breaches(
            targets=report_targets(filters=form.filters()),
            now=now,
            ordering=request.GET.get("sort", "due"),
        )
        .using(current_read_alias())
        .values_list(  # type: ignore[misc]  # "overdue" is an annotation the stubs cannot see
            "ticket_id",
            "ticket__company__name",
            "severity",
            "kind",
            "due_at",
            "fulfilled_at",
            "overdue",
            "assignee__email",
        )
    )
    writer = csv.writer(_Echo())
    records = breaches.iterator(chunk_size=2000)
    # A query that fails, fails here: before any byte is sent, as an ordinary error page.
    first = next(records, None)

    def lines() -> Iterator[Any]:
        yield writer.writerow(CSV_COLUMNS)
        try:
            for record in itertools.chain([first] if first is not None else [], records):
                yield writer.writerow(_csv_row(record))
        except Exception:
            # The status line has gone out: the file itself must say it is incomplete, and the
            # connection is cut (the error goes on), so nobody mistakes it for the whole list.
            logger.exception("The breaches CSV stopped early")
            yield writer.writerow([CSV_INCOMPLETE])
            raise

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sla-breaches.csv"'
    return response
