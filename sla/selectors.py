"""Reads of SLA data that pages (through the `sla_tags` template library) and services share."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from accounts.models import Company
from accounts.selectors import companies_holding_addon, company_active_addon
from sla.models import ScanHeartbeat, SlaPolicy, SlaPolicyTarget, SlaTarget, TargetState
from tickets.models import Ticket


def policy_for_company(*, company: Company, on: datetime.date | None = None) -> SlaPolicy:
    """VIP for companies holding the dedicated-agent add-on on `on`, Standard for everyone else."""
    has_addon = company_active_addon(company=company, on=on) is not None
    code = SlaPolicy.VIP if has_addon else SlaPolicy.STANDARD
    return SlaPolicy.objects.select_related("calendar").get(code=code)


def policies_for_companies(
    *, company_ids: Iterable[int], on: datetime.date
) -> dict[int, SlaPolicy]:
    """`policy_for_company` of many companies on one day, with each policy's targets: three
    queries, however many companies."""
    ids = set(company_ids)
    holding = companies_holding_addon(company_ids=ids, on=on)
    policies = {
        policy.code: policy
        for policy in SlaPolicy.objects.filter(code__in=[SlaPolicy.VIP, SlaPolicy.STANDARD])
        .select_related("calendar")
        .prefetch_related("targets")
    }
    chosen: dict[int, SlaPolicy] = {}
    for company_id in ids:
        code = SlaPolicy.VIP if company_id in holding else SlaPolicy.STANDARD
        if code not in policies:
            raise SlaPolicy.DoesNotExist(f"No SLA policy {code!r}.")
        chosen[company_id] = policies[code]
    return chosen


def policy_targets_by_severity(*, company: Company) -> dict[int, SlaPolicyTarget]:
    policy = policy_for_company(company=company)
    return {target.severity: target for target in policy.targets.all()}


def ticket_targets(*, ticket: Ticket) -> list[SlaTarget]:
    """Every SLA target of a ticket, oldest first, with what explaining them needs."""
    return list(ticket.sla_targets.select_related("calendar").order_by("started_at", "pk"))


def ticket_pending_target(*, ticket: Ticket) -> SlaTarget | None:
    """The earliest target still waiting for staff: running, or breached and unanswered."""
    return (
        ticket.sla_targets.filter(
            state__in=[TargetState.ACTIVE, TargetState.BREACHED], fulfilled_at__isnull=True
        )
        .order_by("due_at")
        .first()
    )


def scan_last_finished_at() -> datetime.datetime | None:
    """When the breach scan last finished (any process), or None if it never has."""
    return (
        ScanHeartbeat.objects.filter(pk=ScanHeartbeat.SINGLETON)
        .values_list("finished_at", flat=True)
        .first()
    )
