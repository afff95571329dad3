"""SLA figures: the managers' report (`sla.reports.report_build`) and a company's monthly
statement (`sla.statement.statement_build`), with the pages' filters and rules.

Dates are the caller's own days (their profile's zone), as on the pages; instants are ISO 8601 in
UTC and durations whole seconds.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company, Role, User
from api.fields import UtcDateTimeField, seconds
from api.permissions import IsCustomer, IsManaging
from api.serializers import CompanySerializer
from sla.forms import ReportForm
from sla.models import TargetKind
from sla.reports import FIRST_YEAR, LAST_YEAR, Figures, PeriodChoice, Report, report_build
from sla.statement import Statement, statement_build
from sla.views_statement import MONTH
from vipsupport.db_router import read_replica
from vipsupport.ids import MAX_ID


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _zone(user: User) -> ZoneInfo:
    return ZoneInfo(user.time_zone)


def _figures(figures: Figures) -> dict[str, Any]:
    return {
        "due": figures.due,
        "met": figures.met,
        "breached": figures.breached,
        "running": figures.running,
        "compliance": figures.compliance,
        "median_seconds": seconds(figures.median),
        "p90_seconds": seconds(figures.p90),
    }


# ---------------------------------------------------------------------------- shapes


class SlaFiguresSerializer(serializers.Serializer[Any]):
    due = serializers.IntegerField(help_text="Targets due in the period.")
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    running = serializers.IntegerField(help_text="Due in the period, not decided yet.")
    compliance = serializers.FloatField(
        allow_null=True, help_text="Met of met + breached, in percent; null when none decided."
    )
    median_seconds = serializers.IntegerField(
        allow_null=True, help_text="Median time taken (business or clock time, as the target)."
    )
    p90_seconds = serializers.IntegerField(allow_null=True)


class SlaPeriodSerializer(serializers.Serializer[Any]):
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    zone = serializers.CharField()
    start = UtcDateTimeField(help_text="The first day's midnight, in UTC.")
    end = UtcDateTimeField(help_text="Midnight after the last day (exclusive), in UTC.")


class SlaComplianceRowSerializer(SlaFiguresSerializer):
    kind = serializers.CharField(help_text="first_response or follow_up.")
    severity = serializers.IntegerField()


class SlaAgentRowSerializer(serializers.Serializer[Any]):
    agent_id = serializers.IntegerField(allow_null=True, help_text="null: unassigned.")
    name = serializers.CharField()
    tickets = serializers.IntegerField()
    due = serializers.IntegerField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    running = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True)
    median_first_response_seconds = serializers.IntegerField(allow_null=True)


class SlaEscalationsSerializer(serializers.Serializer[Any]):
    customer = serializers.IntegerField()
    agent = serializers.IntegerField()
    sla = serializers.IntegerField()


class SlaTrendWeekSerializer(serializers.Serializer[Any]):
    week_start = serializers.DateField(help_text="The week's Monday.")
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True)


class SlaReportSerializer(serializers.Serializer[Any]):
    period = SlaPeriodSerializer()
    totals = SlaFiguresSerializer(help_text="Counts only: business and clock times do not mix.")
    compliance = SlaComplianceRowSerializer(many=True)
    agents = SlaAgentRowSerializer(many=True)
    escalations = SlaEscalationsSerializer(help_text="Tickets moved to tier 2, by who asked.")
    trend = SlaTrendWeekSerializer(many=True, help_text="The twelve weeks up to the period's end.")


def _period(report_period: Any) -> dict[str, Any]:
    return {
        "first_day": report_period.first,
        "last_day": report_period.last,
        "zone": report_period.zone.key,
        "start": report_period.start,
        "end": report_period.end,
    }


def report_data(report: Report) -> dict[str, Any]:
    return {
        "period": _period(report.filters.period),
        "totals": _figures(report.totals),
        "compliance": [
            {"kind": row.kind, "severity": row.severity, **_figures(row.figures)}
            for row in report.compliance
        ],
        "agents": [
            {
                "agent_id": row.agent_id,
                "name": row.name,
                "tickets": row.tickets,
                "due": row.figures.due,
                "met": row.figures.met,
                "breached": row.figures.breached,
                "running": row.figures.running,
                "compliance": row.figures.compliance,
                "median_first_response_seconds": seconds(row.median_first_response),
            }
            for row in report.agents
        ],
        "escalations": report.escalations,
        "trend": [
            {
                "week_start": week.start,
                "met": week.met,
                "breached": week.breached,
                "compliance": week.compliance,
            }
            for week in report.trend
        ],
    }


# ---------------------------------------------------------------------------- the report


class SlaReportApi(APIView):
    """The SLA report's figures under the report page's filters (managers and admins)."""

    permission_classes = [IsManaging]

    @extend_schema_serializer(component_name="SlaReportFilter")
    class FilterSerializer(serializers.Serializer[Any]):
        period = serializers.ChoiceField(
            choices=list(PeriodChoice.LABELS),
            required=False,
            help_text="Default: custom when start or end is given, else this_month.",
        )
        start = serializers.DateField(required=False, help_text="First day (custom period).")
        end = serializers.DateField(required=False, help_text="Last day (custom period).")
        company = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        severity = serializers.IntegerField(min_value=1, max_value=5, required=False)
        agent = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        metric = serializers.ChoiceField(choices=TargetKind.values, required=False)
        vip_only = serializers.BooleanField(required=False)

    # The report form's names for the fields this API calls otherwise.
    FORM_NAMES = {"start": "first", "end": "last"}

    @extend_schema(parameters=[FilterSerializer], responses=SlaReportSerializer)
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = query.validated_data
        data = {
            self.FORM_NAMES.get(name, name): (
                value.isoformat() if isinstance(value, datetime.date) else str(value)
            )
            for name, value in fields.items()
            if name != "vip_only" or value
        }
        # As the page reads a hand-made link: days given mean a custom period.
        if "period" not in data:
            data["period"] = (
                PeriodChoice.CUSTOM
                if ("first" in data or "last" in data)
                else (PeriodChoice.THIS_MONTH)
            )
        zone = _zone(_user(request))
        form = ReportForm(data, zone=zone, today=timezone.localdate(timezone.now(), zone))
        if not form.is_valid():
            api_names = {form_name: name for name, form_name in self.FORM_NAMES.items()}
            raise exceptions.ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else api_names.get(name, name)): [
                        str(message) for message in messages
                    ]
                    for name, messages in form.errors.items()
                }
            )
        with read_replica(request):
            report = report_build(filters=form.filters())
        return Response(SlaReportSerializer(report_data(report)).data)


# ---------------------------------------------------------------------------- the statement


class IsCustomerOrManaging(BasePermission):
    """Who reads statements: customers (their own company's), managers and admins (any)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return IsCustomer().has_permission(request, view) or IsManaging().has_permission(
            request, view
        )


class SlaPromiseSerializer(serializers.Serializer[Any]):
    target_seconds = serializers.IntegerField(
        allow_null=True, help_text="The promised time; null when nothing is promised."
    )
    clock = serializers.CharField(help_text="business (the desk's hours) or calendar.")
    text = serializers.CharField(help_text="The promise in words, as the statement prints it.")


class SlaStatementLineSerializer(serializers.Serializer[Any]):
    severity = serializers.IntegerField()
    severity_label = serializers.CharField(help_text="The severity's name, e.g. Critical.")
    promised_first_response = SlaPromiseSerializer()
    promised_follow_up = SlaPromiseSerializer()
    first_response = SlaFiguresSerializer()
    follow_up = SlaFiguresSerializer()


class SlaStatementBreachSerializer(serializers.Serializer[Any]):
    ticket = serializers.IntegerField()
    subject = serializers.CharField()
    kind = serializers.CharField(help_text="first_response or follow_up.")
    severity = serializers.IntegerField()
    due_at = UtcDateTimeField()
    fulfilled_at = UtcDateTimeField(allow_null=True, help_text="null: still unanswered.")
    target_seconds = serializers.IntegerField()
    clock = serializers.CharField()
    overdue_seconds = serializers.IntegerField(help_text="Up to now while unanswered.")


class SlaStatementMonthSerializer(serializers.Serializer[Any]):
    month = serializers.CharField(help_text="YYYY-MM.")
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True)


class SlaStatementSerializer(serializers.Serializer[Any]):
    company = CompanySerializer()
    month = serializers.CharField(help_text="YYYY-MM.")
    period = SlaPeriodSerializer()
    is_vip = serializers.BooleanField(
        help_text="False: the company had no dedicated-agent add-on then, so no statement."
    )
    compliance = serializers.FloatField(allow_null=True)
    lines = SlaStatementLineSerializer(many=True, help_text="Per severity.")
    breaches = SlaStatementBreachSerializer(many=True)
    history = SlaStatementMonthSerializer(many=True, help_text="This month and the five before.")


def statement_data(statement: Statement) -> dict[str, Any]:
    return {
        "company": statement.company,
        "month": statement.month.strftime("%Y-%m"),
        "period": _period(statement.period),
        "is_vip": statement.is_vip,
        "compliance": statement.compliance,
        "lines": [
            {
                "severity": line.severity,
                "severity_label": line.label,
                "promised_first_response": {
                    "target_seconds": seconds(line.first_response_target),
                    "clock": line.first_response_clock,
                    "text": line.promised_first_response,
                },
                "promised_follow_up": {
                    "target_seconds": seconds(line.follow_up_target),
                    "clock": line.follow_up_clock,
                    "text": line.promised_follow_up,
                },
                "first_response": _figures(line.first_response),
                "follow_up": _figures(line.follow_up),
            }
            for line in statement.lines
        ],
        "breaches": [
            {
                "ticket": breach.target.ticket_id,
                "subject": breach.target.ticket.subject,
                "kind": breach.target.kind,
                "severity": breach.target.severity,
                "due_at": breach.target.due_at,
                "fulfilled_at": breach.target.fulfilled_at,
                "target_seconds": seconds(breach.target.target),
                "clock": breach.target.clock,
                "overdue_seconds": seconds(breach.overdue),
            }
            for breach in statement.breaches
        ],
        "history": [
            {
                "month": row.month.strftime("%Y-%m"),
                "met": row.met,
                "breached": row.breached,
                "compliance": row.compliance,
            }
            for row in statement.history
        ],
    }


class SlaStatementApi(APIView):
    """A company's monthly SLA statement: a customer's own company; managers and admins name one."""

    permission_classes = [IsCustomerOrManaging]

    @extend_schema_serializer(component_name="SlaStatementQuery")
    class FilterSerializer(serializers.Serializer[Any]):
        month = serializers.CharField(
            max_length=7, required=False, help_text="YYYY-MM (default: this month)."
        )
        company = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="Managers and admins: required. Customers: only their own.",
        )

    @extend_schema(parameters=[FilterSerializer], responses=SlaStatementSerializer)
    def get(self, request: Request) -> Response:
        with read_replica(request):
            return self._get(request)

    def _get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = query.validated_data
        user = _user(request)
        if user.role == Role.CUSTOMER:
            # Another company's id is a 404, as if no such statement existed (as on the page).
            if fields.get("company", user.company_id) != user.company_id:
                raise exceptions.NotFound()
            company = get_object_or_404(Company, pk=user.company_id)
        elif "company" not in fields:
            raise exceptions.ValidationError(
                {"company": [_("Name the company whose statement you want.")]}
            )
        else:
            company = get_object_or_404(Company, pk=fields["company"])
        zone = _zone(user)
        now = timezone.now()
        current = timezone.localdate(now, timezone=zone).replace(day=1)
        month = _month(fields.get("month", ""), current)
        built = statement_build(
            company=company, year=month.year, month=month.month, zone=zone, now=now
        )
        return Response(SlaStatementSerializer(statement_data(built)).data)


def _month(value: str, current: datetime.date) -> datetime.date:
    """`month` as the statement page reads it; what the page would not show is a 400."""
    value = value.strip()
    if not value:
        return current
    match = MONTH.fullmatch(value)
    if not (match and 1 <= int(match[2]) <= 12 and FIRST_YEAR <= int(match[1]) <= LAST_YEAR):
        raise exceptions.ValidationError(
            {
                "month": [
                    _(
                        "Give the month as YYYY-MM, for example %(example)s, from %(first_year)d "
                        "to %(last_year)d."
                    )
                    % {
                        "example": current.strftime("%Y-%m"),
                        "first_year": FIRST_YEAR,
                        "last_year": LAST_YEAR,
                    }
                ]
            }
        )
    chosen = datetime.date(int(match[1]), int(match[2]), 1)
    if chosen > current:
        raise exceptions.ValidationError(
            {
                "month": [
                    _("%(month)s has not begun yet, so it has no statement.")
                    % {"month": formats.date_format(chosen, "YEAR_MONTH_FORMAT")}
                ]
            }
        )
    return chosen
