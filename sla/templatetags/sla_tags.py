"""SLA facts for ticket pages; `tickets` templates load this library, its code never imports sla."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django import template
from django.utils.translation import gettext as _

from accounts.models import Company
from sla import selectors
from sla.explain import duration_words, target_explanation
from sla.models import SlaTarget
from tickets.models import Ticket
from vipsupport.durations import compact_duration

register = template.Library()


@dataclass(frozen=True)
class ExplainedTarget:
    target: SlaTarget
    explanation: str


@register.simple_tag
def sla_pending(ticket: Ticket) -> SlaTarget | None:
    """The promise the customer is waiting on now, if any."""
    return selectors.ticket_pending_target(ticket=ticket)


@register.simple_tag
def sla_targets(ticket: Ticket) -> list[ExplainedTarget]:
    """Every target with its deadline explained in the viewer's language and zone."""
    return [
        ExplainedTarget(target, target_explanation(target))
        for target in selectors.ticket_targets(ticket=ticket)
    ]


@register.simple_tag
def sla_severity_promises(company: Company) -> dict[int, str]:
    """For each severity, the first response the company's policy promises, in words."""
    return {
        severity: _("first response within %(duration)s")
        % {"duration": duration_words(rule.first_response, rule.first_response_clock)}
        for severity, rule in selectors.policy_targets_by_severity(company=company).items()
    }


@register.filter
def span(value: datetime.timedelta | None) -> str:
    """A duration for tables: "45m", "3h 05m", "2d 4h"; "—" when there is none."""
    return "—" if value is None else compact_duration(value)
