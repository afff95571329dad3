"""The agent queue: open tickets by urgency, keyset-paginated on one index.

Urgency is the ticket's stored next SLA deadline (breached ones are simply the oldest deadlines),
then severity, then age. Pages continue from the last row's key, never from an offset, so page 500
costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import AddOn, AddOnSubscription, DedicatedAssignment, User
from tickets.models import HELD_CHANNELS, OPEN_STATUSES, Ticket
from vipsupport.ids import parse_id, parse_int

PAGE_SIZE = 50


class View:
    ALL = "all"
    MINE = "mine"
    MY_VIP = "vip"
    UNASSIGNED = "unassigned"
    TIER_2 = "tier2"
    HELD = "held"

    CHOICES = (ALL, MINE, MY_VIP, UNASSIGNED, TIER_2, HELD)


@dataclass(frozen=True)
class QueueFilters:
    view: str = View.ALL
    severity: int | None = None
    status: str | None = None
    company: int | None = None
    assignee: int | None = None
    breached_only: bool = False


@dataclass(frozen=True)
class Cursor:
    """The sort key of the last row shown; the next page starts right after it."""

    due_at: datetime.datetime | None
    severity: int
    created_at: datetime.datetime
    pk: int

    @classmethod
    def after(cls, ticket: Ticket) -> Cursor:
        return cls(ticket.sla_due_at, ticket.severity, ticket.created_at, ticket.pk)

    def encode(self) -> str:
        data = [
            self.due_at.isoformat() if self.due_at else None,
            self.severity,
            self.created_at.isoformat(),
            self.pk,
        ]
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | None:
        """None for anything that is not a cursor this module wrote."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            due, severity, created, pk = json.loads(raw)
            due_at = datetime.datetime.fromisoformat(due) if due is not None else None
            created_at = datetime.datetime.fromisoformat(created)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        severity, pk = parse_int(severity, minimum=1, maximum=5), parse_id(pk)
        if severity is None or pk is None or not _aware(created_at, due_at):
            return None
        return cls(due_at, severity, created_at, pk)


def _aware(*moments: datetime.datetime | None) -> bool:
    return all(moment is None or timezone.is_aware(moment) for moment in moments)


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    next_cursor: Cursor | None


def _row_after(columns: str, values: list[object]) -> RawSQL:
    """A row-value comparison, which PostgreSQL and SQLite answer with an index range scan."""
    placeholders = ", ".join(["%s"] * len(values))
    table = Ticket._meta.db_table
    qualified = ", ".join(f'"{table}"."{column}"' for column in columns.split())
    # Column names come from this module, never from input; the values are bound parameters.
    sql = f"({qualified}) > ({placeholders})"
    return RawSQL(sql, values, output_field=BooleanField())  # noqa: S611


def _filtered(*, user: User, filters: QueueFilters) -> QuerySet[Ticket]:
    now = timezone.now()
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    # Mail that came while the desk was closed waits, out of sight, until the desk opens.
    held = Q(channel__in=HELD_CHANNELS, sla_clock_started_at__gt=now)
    tickets = tickets.filter(held) if filters.view == View.HELD else tickets.exclude(held)
    if filters.view == View.MINE:
        tickets = tickets.filter(assignee=user)
    elif filters.view == View.MY_VIP:
        mine = DedicatedAssignment.objects.current().filter(agent=user)
        tickets = tickets.filter(company_id__in=mine.values("company_id"))
    elif filters.view == View.UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.view == View.TIER_2:
        tickets = tickets.filter(tier=2)
    if filters.severity is not None:
        tickets = tickets.filter(severity=filters.severity)
    if filters.status is not None:
        tickets = tickets.filter(status=filters.status)
    if filters.company is not None:
        tickets = tickets.filter(company_id=filters.company)
    if filters.assignee is not None:
        tickets = tickets.filter(assignee_id=filters.assignee)
    if filters.breached_only:
        tickets = tickets.filter(sla_due_at__lte=now)
    return tickets


def _with_columns(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    today = timezone.localdate()
    vip = AddOnSubscription.objects.filter(
        company_id=OuterRef("company_id"), addon__code=AddOn.DEDICATED_AGENT
    ).active_on(today)
    return tickets.select_related("company", "assignee").annotate(is_vip=Exists(vip))


def queue_page(
    *, user: User, filters: QueueFilters, after: Cursor | None = None, size: int = PAGE_SIZE
) -> QueuePage:
    """One page of the queue in urgency order, starting after `after`."""
    tickets = _filtered(user=user, filters=filters)
    dated = tickets.filter(sla_due_at__isnull=False).order_by(
        "sla_due_at", "severity", "created_at", "pk"
    )
    # The deadline is NULL on every undated row, so ordering on it first changes nothing, but it
    # makes the order `ticket_queue_order`'s: PostgreSQL reads the page off that index instead
    # of fetching and sorting every undated open ticket (1 s at 30 000 waiting tickets).
    undated = tickets.filter(sla_due_at__isnull=True).order_by(
        "sla_due_at", "severity", "created_at", "pk"
    )
    rows: list[Ticket] = []
    if after is None or after.due_at is not None:
        if after is not None:
            dated = dated.filter(
                _row_after(
                    "sla_due_at severity created_at id",
                    [after.due_at, after.severity, after.created_at, after.pk],
                )
            )
        rows = list(_with_columns(dated)[: size + 1])
        after = None
    if len(rows) <= size:
        if after is not None:
            undated = undated.filter(
                _row_after("severity created_at id", [after.severity, after.created_at, after.pk])
            )
        rows += list(_with_columns(undated)[: size + 1 - len(rows)])
    has_more = len(rows) > size
    rows = rows[:size]
    return QueuePage(rows, Cursor.after(rows[-1]) if has_more else None)


def filters_from_query(*, data: dict[str, str], default_view: str) -> QueueFilters:
    """Parse the queue's query string; unknown or malformed values are ignored, never a 500."""

    view = data.get("view") or default_view
    status = data.get("status") or None
    return QueueFilters(
        view=view if view in View.CHOICES else default_view,
        severity=parse_int(data.get("severity"), minimum=1, maximum=5),
        status=status if status in OPEN_STATUSES else None,
        company=parse_id(data.get("company")),
        assignee=parse_id(data.get("assignee")),
        breached_only=data.get("breached") == "1",
    )
