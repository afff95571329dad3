"""SLA reporting reads: every figure is aggregated by the database from the stored target rows."""

from __future__ import annotations

import calendar
import datetime
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import SlaPolicy, SlaTarget, TargetKind, TargetState
from tickets.models import Escalation

MAX_PERIOD_DAYS = 366
# Reports and statements cover these years: the portal's data lies within them, and the trend's
# twelve weeks before and the day after a period stay representable.
FIRST_YEAR = 2000
LAST_YEAR = 2099
TREND_WEEKS = 12


class PercentileCont(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(f) WITHIN GROUP (ORDER BY expression); NULLs are skipped."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=str(float(fraction)), **extra)


def percentile(values: list[datetime.timedelta], fraction: float) -> datetime.timedelta | None:
    """The same linear interpolation as PERCENTILE_CONT, for databases without it (SQLite)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def has_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


class PeriodChoice:
    THIS_WEEK = "this_week"
    LAST_WEEK = "last_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    CUSTOM = "custom"

    LABELS = {
        THIS_WEEK: gettext_lazy("This week"),
        LAST_WEEK: gettext_lazy("Last week"),
        THIS_MONTH: gettext_lazy("This month"),
        LAST_MONTH: gettext_lazy("Last month"),
        CUSTOM: gettext_lazy("Custom dates"),
    }


@dataclass(frozen=True)
class Period:
    """Whole local days [first, last] in a zone, and the UTC instants that bound them."""

    first: datetime.date
    last: datetime.date
    zone: ZoneInfo

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first, datetime.time(), self.zone)

    @property
    def end(self) -> datetime.datetime:
        """Exclusive: midnight after the last day, whatever its length in a DST change."""
        return datetime.datetime.combine(
            self.last + datetime.timedelta(days=1), datetime.time(), self.zone
        )


def period_resolve(
    *,
    choice: str,
    today: datetime.date,
    zone: ZoneInfo,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
) -> Period:
    """Turn a period choice (and custom dates) into local days; bad dates raise ValidationError."""
    monday = today - datetime.timedelta(days=today.weekday())
    if choice == PeriodChoice.THIS_WEEK:
        return Period(monday, monday + datetime.timedelta(days=6), zone)
    if choice == PeriodChoice.LAST_WEEK:
        return Period(
            monday - datetime.timedelta(days=7), monday - datetime.timedelta(days=1), zone
        )
    if choice == PeriodChoice.THIS_MONTH:
        return month_period(today.year, today.month, zone)
    if choice == PeriodChoice.LAST_MONTH:
        previous = today.replace(day=1) - datetime.timedelta(days=1)
        return month_period(previous.year, previous.month, zone)
    if first is None or last is None:
        raise ValidationError(_("Give both a first and a last day for a custom period."))
    if last < first:
        raise ValidationError(_("The last day must not be before the first day."))
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise ValidationError(
            _("Choose days from %(first)s to %(last)s.")
            % {
                "first": formats.date_format(datetime.date(FIRST_YEAR, 1, 1), "j F Y"),
                "last": formats.date_format(datetime.date(LAST_YEAR, 12, 31), "j F Y"),
            }
        )
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise ValidationError(
            _("Choose a period of at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}
        )
    return Period(first, last, zone)


def month_period(year: int, month: int, zone: ZoneInfo) -> Period:
    days = calendar.monthrange(year, month)[1]
    return Period(datetime.date(year, month, 1), datetime.date(year, month, days), zone)


@dataclass(frozen=True)
class ReportFilters:
    period: Period
    company_id: int | None = None
    severity: int | None = None
    agent_id: int | None = None
    metric: str | None = None
    vip_only: bool = False


def report_targets(*, filters: ReportFilters, with_period: bool = True) -> QuerySet[SlaTarget]:
    """Targets with an outcome or still running, due in the period, narrowed by the filters.

    Stopped targets (the customer was asked, or the ticket was solved) had no deadline to keep.
    """
    targets = SlaTarget.objects.exclude(state=TargetState.CANCELLED)
    if with_period:
        targets = targets.filter(due_at__gte=filters.period.start, due_at__lt=filters.period.end)
    if filters.company_id is not None:
        targets = targets.filter(ticket__company_id=filters.company_id)
    if filters.severity is not None:
        targets = targets.filter(severity=filters.severity)
    if filters.agent_id is not None:
        targets = targets.filter(assignee_id=filters.agent_id)
    if filters.metric is not None:
        targets = targets.filter(kind=filters.metric)
    if filters.vip_only:
        targets = targets.filter(policy__code=SlaPolicy.VIP)
    return targets


def _counts() -> dict[str, Count]:
    return {
        "due": Count("pk"),
        "met": Count("pk", filter=Q(state=TargetState.FULFILLED)),
        "breached": Count("pk", filter=Q(state=TargetState.BREACHED)),
        "running": Count("pk", filter=Q(state=TargetState.ACTIVE)),
    }


def compliance(met: int, breached: int) -> float | None:
    """Share of decided targets that were met, in percent; None when nothing was decided."""
    decided = met + breached
    return 100.0 * met / decided if decided else None


@dataclass
class Figures:
    due: int = 0
    met: int = 0
    breached: int = 0
    running: int = 0
    median: datetime.timedelta | None = None
    p90: datetime.timedelta | None = None

    @property
    def compliance(self) -> float | None:
        return compliance(self.met, self.breached)


def _with_percentiles(
    targets: QuerySet[SlaTarget], keys: list[str], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fill `median` and `p90` per group on databases without PERCENTILE_CONT."""
    answered: dict[tuple[Any, ...], list[datetime.timedelta]] = defaultdict(list)
    for row in targets.filter(time_taken__isnull=False).values(*keys, "time_taken"):
        answered[tuple(row[key] for key in keys)].append(row["time_taken"])
    for row in rows:
        values = answered.get(tuple(row[key] for key in keys), [])
        row["median"], row["p90"] = percentile(values, 0.5), percentile(values, 0.9)
    return rows


def _grouped(targets: QuerySet[SlaTarget], keys: list[str], **extra: Any) -> list[dict[str, Any]]:
    aggregates: dict[str, Any] = {**_counts(), **extra}
    if has_percentile_cont():
        aggregates["median"] = PercentileCont("time_taken", 0.5)
        aggregates["p90"] = PercentileCont("time_taken", 0.9)
    rows = list(targets.values(*keys).annotate(**aggregates).order_by(*keys))
    if not has_percentile_cont():
        rows = _with_percentiles(targets, keys, rows)
    return rows


@dataclass(frozen=True)
class ComplianceRow:
    kind: str
    severity: int
    figures: Figures


def report_compliance(*, targets: QuerySet[SlaTarget]) -> list[ComplianceRow]:
    """Per metric and severity: due, met, breached, running, compliance, median and p90 taken."""
    return [
        ComplianceRow(
            row["kind"],
            row["severity"],
            Figures(
                row["due"], row["met"], row["breached"], row["running"], row["median"], row["p90"]
            ),
        )
        for row in _grouped(targets, ["kind", "severity"])
    ]


@dataclass(frozen=True)
class AgentRow:
    agent_id: int | None
    name: str
    tickets: int
    figures: Figures
    median_first_response: datetime.timedelta | None


def report_agents(*, targets: QuerySet[SlaTarget]) -> list[AgentRow]:
    """Per agent answerable at the time: tickets, targets met and breached, median first reply."""
    first_response = Q(kind=TargetKind.FIRST_RESPONSE)
    aggregates: dict[str, Any] = {**_counts(), "tickets": Count("ticket_id", distinct=True)}
    if has_percentile_cont():
        aggregates["first_median"] = PercentileCont("time_taken", 0.5, filter=first_response)
    keys = ["assignee_id"]
    rows = list(targets.values(*keys).annotate(**aggregates).order_by(*keys))
    if not has_percentile_cont():
        for row, first in zip(
            rows,
            _with_percentiles(
                targets.filter(first_response),
                keys,
                [{key: row[key] for key in keys} for row in rows],
            ),
            strict=True,
        ):
            row["first_median"] = first["median"]
    from accounts.models import User

    names = {
        user.pk: str(user)
        for user in User.objects.filter(pk__in=[row["assignee_id"] for row in rows])
    }
    return [
        AgentRow(
            row["assignee_id"],
            names.get(row["assignee_id"], _("Unassigned")),
            row["tickets"],
            Figures(row["due"], row["met"], row["breached"], row["running"]),
            row["first_median"],
        )
        for row in rows
    ]


def report_escalations(*, filters: ReportFilters) -> dict[str, int]:
    """Tickets moved to tier 2 in the period, by who asked: customer, agent or SLA engine."""
    escalations = Escalation.objects.filter(
        created_at__gte=filters.period.start, created_at__lt=filters.period.end
    )
    if filters.company_id is not None:
        escalations = escalations.filter(ticket__company_id=filters.company_id)
    if filters.severity is not None:
        escalations = escalations.filter(ticket__severity=filters.severity)
    if filters.agent_id is not None:
        escalations = escalations.filter(ticket__assignee_id=filters.agent_id)
    counts = dict(escalations.values_list("source").annotate(count=Count("pk")).order_by())
    return {source: counts.get(source, 0) for source in ("customer", "agent", "sla")}


BREACH_ORDERINGS = {
    "due": ("due_at", "pk"),
    "-due": ("-due_at", "-pk"),
    "overdue": ("overdue", "pk"),
    "-overdue": ("-overdue", "-pk"),
    "severity": ("severity", "due_at", "pk"),
    "company": ("ticket__company__name", "due_at", "pk"),
}


def report_breaches(
    *, targets: QuerySet[SlaTarget], now: datetime.datetime, ordering: str = "-due"
) -> QuerySet[SlaTarget]:
    """Breached targets with what the list and the CSV show; overdue runs to `now` if unanswered.

    `now` is the application's clock, not the database's, so the figures agree with the page.
    """
    overdue = ExpressionWrapper(
        Coalesce(F("fulfilled_at"), Value(now, output_field=DateTimeField())) - F("due_at"),
        output_field=DurationField(),
    )
    return (
        targets.filter(state=TargetState.BREACHED)
        .select_related("ticket__company", "assignee")
        .annotate(overdue=overdue)
        .order_by(*BREACH_ORDERINGS.get(ordering, BREACH_ORDERINGS["-due"]))
    )


@dataclass(frozen=True)
class Week:
    start: datetime.date
    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        return compliance(self.met, self.breached)


def report_trend(*, filters: ReportFilters, weeks: int = TREND_WEEKS) -> list[Week]:
    """Met and breached per local week, for the weeks ending with the period's last week."""
    zone = filters.period.zone
    last_monday = filters.period.last - datetime.timedelta(days=filters.period.last.weekday())
    first_monday = last_monday - datetime.timedelta(weeks=weeks - 1)
    window = Period(first_monday, last_monday + datetime.timedelta(days=6), zone)
    targets = report_targets(filters=ReportFilters(**{**filters.__dict__, "period": window}))
    mondays = [first_monday + datetime.timedelta(weeks=index) for index in range(weeks + 1)]
    # Week boundaries are local midnights worked out here, so the database only compares
    # instants; conditional counts in one aggregate row need no grouping and no sort.
    bounds = [datetime.datetime.combine(day, datetime.time(), zone) for day in mondays]
    counts: dict[str, Count] = {}
    for index in range(weeks):
        in_week = Q(due_at__gte=bounds[index], due_at__lt=bounds[index + 1])
        counts[f"met_{index}"] = Count("pk", filter=in_week & Q(state=TargetState.FULFILLED))
        counts[f"breached_{index}"] = Count("pk", filter=in_week & Q(state=TargetState.BREACHED))
    row = targets.aggregate(**counts)
    return [
        Week(mondays[index], row[f"met_{index}"], row[f"breached_{index}"])
        for index in range(weeks)
    ]


@dataclass
class Report:
    filters: ReportFilters
    totals: Figures
    compliance: list[ComplianceRow]
    agents: list[AgentRow]
    escalations: dict[str, int]
    trend: list[Week]


def totals_of(rows: list[ComplianceRow]) -> Figures:
    """The period's counts, summed from the metric x severity rows (no second pass).

    There is no overall median: times in business hours and in clock hours do not mix.
    """
    return Figures(
        due=sum(row.figures.due for row in rows),
        met=sum(row.figures.met for row in rows),
        breached=sum(row.figures.breached for row in rows),
        running=sum(row.figures.running for row in rows),
    )


def report_build(*, filters: ReportFilters) -> Report:
    targets = report_targets(filters=filters)
    compliance = report_compliance(targets=targets)
    return Report(
        filters=filters,
        totals=totals_of(compliance),
        compliance=compliance,
        agents=report_agents(targets=targets),
        escalations=report_escalations(filters=filters),
        trend=report_trend(filters=filters),
    )
