"""The manager report's filters: parsed and checked here, so bad values get a clear message."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, User
from sla.models import TargetKind
from sla.reports import Period, PeriodChoice, ReportFilters, period_resolve
from tickets.models import Severity
from vipsupport.fields import IdChoiceField


class ReportForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=list(PeriodChoice.LABELS.items()),
        initial=PeriodChoice.THIS_MONTH,
    )
    first = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    company = IdChoiceField(
        label=_("Company"),
        queryset=Company.objects.order_by("name"),
        required=False,
        empty_label=_("All companies"),
        error_messages={"invalid_choice": _("There is no such company.")},
    )
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        choices=[("", _("Any")), *Severity.choices],
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose a severity from 1 to 5.")},
    )
    agent = IdChoiceField(
        label=_("Agent"),
        queryset=User.objects.filter(agent_profile__isnull=False).order_by("first_name"),
        required=False,
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("There is no such agent.")},
    )
    metric = forms.ChoiceField(
        label=_("Metric"),
        choices=[("", _("Both")), *TargetKind.choices],
        required=False,
    )
    vip_only = forms.BooleanField(label=_("VIP only"), required=False)

    def __init__(self, *args: Any, zone: ZoneInfo, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "period" in data:
            try:
                data["resolved"] = period_resolve(
                    choice=data["period"],
                    today=self.today,
                    zone=self.zone,
                    first=data.get("first"),
                    last=data.get("last"),
                )
            except ValidationError as error:
                self.add_error("last" if data["period"] == PeriodChoice.CUSTOM else None, error)
        return data

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        period: Period = data["resolved"]
        return ReportFilters(
            period=period,
            company_id=data["company"].pk if data.get("company") else None,
            severity=data.get("severity"),
            agent_id=data["agent"].pk if data.get("agent") else None,
            metric=data.get("metric") or None,
            vip_only=bool(data.get("vip_only")),
        )
