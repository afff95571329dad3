"""The customer's monthly SLA statement: per severity, what was promised and what was delivered.

Every figure is aggregated by the database through `sla.reports`; the only Python loops run over
the month's breaches (the list the statement prints) and over at most six history rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AddOn, AddOnSubscription, Company
from sla.explain import BUSINESS_DAY, HOUR, MINUTE, duration_words
from sla.models import Clock, SlaPolicyTarget, SlaTarget, TargetKind, TargetState
from sla.reports import (
    Figures,
    Period,
    ReportFilters,
    compliance,
    month_period,
    report_breaches,
    report_compliance,
    report_targets,
)
from sla.selectors import policy_for_company, policy_targets_by_severity
from tickets.models import Severity

HISTORY_MONTHS = 6
DAY = datetime.timedelta(days=1)
NOTHING = "—"


def month_shift(month: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or before, when negative) `month`'s month."""
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def span_words(duration: datetime.timedelta | None, clock: str) -> str:
    """A time taken or overdue in words, to the minute: "1 business day 2 business hours",
    "2 days 3 hours", "45 minutes"; "—" when there is none."""
    if duration is None:
        return NOTHING
    minutes = max((duration + MINUTE / 2) // MINUTE, 0)
    if not minutes:
        return _("under a minute")
    rest = MINUTE * minutes
    units = (BUSINESS_DAY, HOUR, MINUTE) if clock == Clock.BUSINESS else (DAY, HOUR, MINUTE)
    parts = []
    for unit in units:
        count, rest = divmod(rest, unit)
        if not count:
            continue
        if unit == DAY:
            parts.append(ngettext("%(n)d day", "%(n)d days", count) % {"n": count})
        else:
            parts.append(duration_words(unit * count, clock))
    return " ".join(parts)


@dataclass(frozen=True)
class SeverityLine:
    """One severity: the promise in words and the month's delivered figures for both metrics."""

    severity: int
    promised_first_response: str
    promised_follow_up: str
    first_response: Figures
    follow_up: Figures
    first_response_clock: str
    follow_up_clock: str
    # The promised times themselves (None: nothing promised), for readers that want numbers.
    first_response_target: datetime.timedelta | None = None
    follow_up_target: datetime.timedelta | None = None

    @property
    def label(self) -> str:
        return str(Severity(self.severity).label)

    @property
    def first_response_median(self) -> str:
        return span_words(self.first_response.median, self.first_response_clock)

    @property
    def follow_up_median(self) -> str:
        return span_words(self.follow_up.median, self.follow_up_clock)


@dataclass(frozen=True)
class BreachLine:
    """A breached target as the statement lists it; `overdue` runs to now while unanswered."""

    target: SlaTarget
    overdue: datetime.timedelta

    @property
    def promised(self) -> str:
        return duration_words(self.target.target, self.target.clock)

    @property
    def overdue_words(self) -> str:
        return span_words(self.overdue, Clock.CALENDAR)


@dataclass(frozen=True)
class MonthCompliance:
    month: datetime.date
    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        return compliance(self.met, self.breached)


@dataclass(frozen=True)
class Statement:
    company: Company
    period: Period
    is_vip: bool
    lines: list[SeverityLine]
    breaches: list[BreachLine]
    history: list[MonthCompliance]

    @property
    def month(self) -> datetime.date:
        return self.period.first

    @property
    def previous_month(self) -> datetime.date:
        return month_shift(self.month, -1)

    @property
    def next_month(self) -> datetime.date:
        return month_shift(self.month, 1)

    @property
    def compliance(self) -> float | None:
        return self.history[-1].compliance if self.history else None


@dataclass(frozen=True)
class _AddOnDays:
    held_today: bool
    last_day_in_month: datetime.date | None  # the month's last day (up to today) with the add-on


def _addon_days(*, company: Company, period: Period, today: datetime.date) -> _AddOnDays:
    """Whether the company holds the dedicated-agent add-on today and when it last did in the month.

    One query; a company has a handful of subscriptions, not one per ticket.
    """
    spans = AddOnSubscription.objects.filter(
        company=company, addon__code=AddOn.DEDICATED_AGENT
    ).values_list("starts_on", "ends_on")
    held_today = False
    last_day: datetime.date | None = None
    month_end = min(period.last, today)
    for starts_on, ends_on in spans:
        if starts_on <= today and (ends_on is None or ends_on > today):
            held_today = True
        held_until = month_end if ends_on is None else min(month_end, ends_on - DAY)
        if max(starts_on, period.first) <= held_until:
            last_day = held_until if last_day is None else max(last_day, held_until)
    return _AddOnDays(held_today, last_day)


def _promised_rules(*, company: Company, days: _AddOnDays) -> dict[int, SlaPolicyTarget]:
    """The policy the month's promises came from: today's, or the one in force in that month."""
    if days.held_today or days.last_day_in_month is None:
        return policy_targets_by_severity(company=company)
    policy = policy_for_company(company=company, on=days.last_day_in_month)
    return {rule.severity: rule for rule in policy.targets.all()}


def _lines(
    *, rules: dict[int, SlaPolicyTarget], targets: QuerySet[SlaTarget]
) -> list[SeverityLine]:
    figures = {(row.kind, row.severity): row.figures for row in report_compliance(targets=targets)}
    lines = []
    for severity in Severity.values:
        rule = rules.get(severity)
        follow_up = rule.follow_up if rule is not None else None
        lines.append(
            SeverityLine(
                severity=severity,
                promised_first_response=(
                    duration_words(rule.first_response, rule.first_response_clock)
                    if rule is not None
                    else NOTHING
                ),
                promised_follow_up=(
                    duration_words(follow_up, rule.follow_up_clock)
                    if rule is not None and follow_up is not None
                    else NOTHING
                ),
                first_response=figures.get((TargetKind.FIRST_RESPONSE, severity), Figures()),
                follow_up=figures.get((TargetKind.FOLLOW_UP, severity), Figures()),
                first_response_clock=rule.first_response_clock if rule else Clock.BUSINESS,
                follow_up_clock=rule.follow_up_clock if rule else Clock.BUSINESS,
                first_response_target=rule.first_response if rule is not None else None,
                follow_up_target=follow_up,
            )
        )
    return lines


def _local_month(value: datetime.datetime | datetime.date, zone: ZoneInfo) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value, zone) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _history(*, company: Company, period: Period) -> list[MonthCompliance]:
    """Met and breached per local month, this month and the five before it, in one query."""
    first = month_shift(period.first, -(HISTORY_MONTHS - 1))
    window = Period(first, period.last, period.zone)
    rows = (
        report_targets(filters=ReportFilters(period=window, company_id=company.pk))
        .annotate(month=TruncMonth("due_at", tzinfo=period.zone))
        .values("month")
        .annotate(
            met=Count("pk", filter=Q(state=TargetState.FULFILLED)),
            breached=Count("pk", filter=Q(state=TargetState.BREACHED)),
        )
        .order_by("month")
    )
    found = {_local_month(row["month"], period.zone): row for row in rows}
    history = []
    for index in range(HISTORY_MONTHS):
        month = month_shift(first, index)
        row = found.get(month, {"met": 0, "breached": 0})
        history.append(MonthCompliance(month, row["met"], row["breached"]))
    return history


def statement_build(
    *,
    company: Company,
    year: int,
    month: int,
    zone: ZoneInfo,
    now: datetime.datetime | None = None,
) -> Statement:
    """The statement of one local month in `zone` (the viewer's), for a VIP company.

    A company that neither holds the dedicated-agent add-on now nor held it during the month gets
    an empty statement with `is_vip` False: statements come with the add-on.
    """
    now = now or timezone.now()
    period = month_period(year, month, zone)
    today = timezone.localdate(now, timezone=zone)
    days = _addon_days(company=company, period=period, today=today)
    if not days.held_today and days.last_day_in_month is None:
        return Statement(company, period, False, [], [], [])
    targets = report_targets(filters=ReportFilters(period=period, company_id=company.pk))
    breaches = [
        BreachLine(target, target.overdue)  # type: ignore[attr-defined]  # an annotation
        for target in report_breaches(targets=targets, now=now, ordering="due")
    ]
    return Statement(
        company=company,
        period=period,
        is_vip=True,
        lines=_lines(rules=_promised_rules(company=company, days=days), targets=targets),
        breaches=breaches,
        history=_history(company=company, period=period),
    )


def statement_companies(*, on: datetime.date) -> QuerySet[Company]:
    """Companies holding the dedicated-agent add-on on `on`: the ones a manager may pick."""
    holding = AddOnSubscription.objects.filter(
        company=OuterRef("pk"), addon__code=AddOn.DEDICATED_AGENT
    ).active_on(on)
    return Company.objects.filter(Exists(holding)).order_by("name")
