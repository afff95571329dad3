"""The audit log: admin-site changes (Django's `LogEntry`) and dedicated/backup assignment changes
(the assignment history itself), read together newest first; nothing is copied anywhere."""

from __future__ import annotations

import datetime
import functools
import operator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Value
from django.utils.translation import pgettext

from accounts.models import DedicatedAssignment, User
from accounts.selectors import assignment_change_message

# Each row's source, also the tie-break after the instant: newest first, then by source and id.
SOURCE_ENDED, SOURCE_ASSIGNED, SOURCE_ADMIN = 1, 2, 3
# The kind of object the assignment history is; its facts are read from that table only.
ASSIGNMENTS = "accounts.dedicatedassignment"


@dataclass(frozen=True)
class AuditFilters:
    who_id: int | None = None
    kind: str | None = None  # "app_label.model_name"
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditCursor:
    """Where a page ends: the last row's instant, source and id."""

    at: datetime.datetime
    source: int
    key: int

    @property
    def token(self) -> str:
        return f"{self.at.isoformat()}~{self.source}~{self.key}"


def audit_cursor_parse(*, token: str) -> AuditCursor | None:
    """The cursor a page's "Older" link carries, or None when `token` is not one."""
    parts = token.split("~")
    if len(parts) != 3 or not parts[1].isascii() or not parts[2].isascii():
        return None
    try:
        at = datetime.datetime.fromisoformat(parts[0])
        source, key = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    if at.tzinfo is None or source not in (SOURCE_ENDED, SOURCE_ASSIGNED, SOURCE_ADMIN):
        return None
    if not 0 < key < 2**63:
        return None
    return AuditCursor(at=at, source=source, key=key)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime.datetime
    who: User | None  # None: the system (a command, the add-on's end without a person)
    object_type: str
    object: str
    action: str
    message: str
    cursor: AuditCursor


def _branch(
    queryset: QuerySet[Any],
    *,
    at: str,
    who: str,
    source: int,
    filters: AuditFilters,
    after: AuditCursor | None,
) -> QuerySet[Any]:
    """One source as (at, source, key) rows under the filters and after the cursor."""
    rows = queryset.annotate(
        at=F(at), source=Value(source, output_field=IntegerField()), key=F("pk")
    )
    if filters.who_id is not None:
        rows = rows.filter(**{f"{who}_id": filters.who_id})
    if filters.since is not None:
        rows = rows.filter(at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(at__lt=filters.until)
    if after is not None:
        # Keyset on (at, source, key) descending; the source is a constant in each branch.
        if source < after.source:
            rows = rows.filter(at__lte=after.at)
        elif source == after.source:
            rows = rows.filter(Q(at__lt=after.at) | Q(at=after.at, key__lt=after.key))
        else:
            rows = rows.filter(at__lt=after.at)
    # No model ordering inside the union: the union orders once, by the keyset.
    return rows.order_by().values_list("at", "source", "key")


def _branches(*, filters: AuditFilters, after: AuditCursor | None) -> list[QuerySet[Any]]:
    branches = []
    if filters.kind != ASSIGNMENTS:
        admin = LogEntry.objects.exclude(
            content_type__app_label="accounts", content_type__model="dedicatedassignment"
        )
        if filters.kind:
            app_label, model = filters.kind.split(".", 1)
            admin = admin.filter(content_type__app_label=app_label, content_type__model=model)
        branches.append(
            _branch(
                admin,
                at="action_time",
                who="user",
                source=SOURCE_ADMIN,
                filters=filters,
                after=after,
            )
        )
    if filters.kind in (None, "", ASSIGNMENTS):
        started = DedicatedAssignment.objects.all()
        # A row closed at the moment its successor opened is told by the successor's row.
        successor = DedicatedAssignment.objects.filter(
            company=OuterRef("company"), role=OuterRef("role"), valid_from=OuterRef("valid_to")
        )
        ended = DedicatedAssignment.objects.filter(valid_to__isnull=False).exclude(
            Exists(successor)
        )
        branches.append(
            _branch(
                started,
                at="valid_from",
                who="assigned_by",
                source=SOURCE_ASSIGNED,
                filters=filters,
                after=after,
            )
        )
        branches.append(
            _branch(
                ended,
                at="valid_to",
                who="ended_by",
                source=SOURCE_ENDED,
                filters=filters,
                after=after,
            )
        )
    return branches


def audit_entries(
    *, filters: AuditFilters, after: AuditCursor | None = None, limit: int = 50
) -> tuple[list[AuditEntry], AuditCursor | None]:
    """A page of the log, newest first, and the cursor of the next page (None on the last).

    One query for the page's keys, then one per source for its rows: a constant count.
    """
    branches = _branches(filters=filters, after=after)
    first, *rest = branches
    keys = list(first.union(*rest, all=True).order_by("-at", "-source", "-key")[: limit + 1])
    more = len(keys) > limit
    keys = keys[:limit]
    admin_ids = [key for _at, source, key in keys if source == SOURCE_ADMIN]
    assignment_ids = [key for _at, source, key in keys if source != SOURCE_ADMIN]
    log_entries = (
        LogEntry.objects.select_related("user", "content_type").in_bulk(admin_ids)
        if admin_ids
        else {}
    )
    assignments = (
        DedicatedAssignment.objects.select_related(
            "company", "agent", "assigned_by", "ended_by"
        ).in_bulk(assignment_ids)
        if assignment_ids
        else {}
    )
    previous = _previous_agents(
        [assignments[key] for _at, source, key in keys if source == SOURCE_ASSIGNED]
    )
    entries = []
    for at, source, key in keys:
        cursor = AuditCursor(at=at, source=source, key=key)
        if source == SOURCE_ADMIN:
            entries.append(_admin_entry(log_entries[key], cursor))
        else:
            entries.append(_assignment_entry(assignments[key], cursor, previous))
    return entries, (entries[-1].cursor if more else None)


def _previous_agents(started: list[DedicatedAssignment]) -> dict[tuple[int, str, Any], User]:
    """The agent each of these rows replaced, by (company, role, the moment of the change)."""
    if not started:
        return {}
    replaced = DedicatedAssignment.objects.filter(
        functools.reduce(
            operator.or_,
            (
                Q(company_id=row.company_id, role=row.role, valid_to=row.valid_from)
                for row in started
            ),
        )
    ).select_related("agent")
    return {(row.company_id, row.role, row.valid_to): row.agent for row in replaced}


def _admin_entry(entry: LogEntry, cursor: AuditCursor) -> AuditEntry:
    content_type = entry.content_type
    model = content_type.model_class() if content_type is not None else None
    if model is not None:
        object_type = str(model._meta.verbose_name)
    else:
        object_type = content_type.model if content_type is not None else "—"
    return AuditEntry(
        at=entry.action_time,
        who=entry.user,
        object_type=object_type,
        object=entry.object_repr,
        action=str(entry.get_action_flag_display()),
        message=entry.get_change_message(),
        cursor=cursor,
    )


def _assignment_entry(
    row: DedicatedAssignment,
    cursor: AuditCursor,
    previous: dict[tuple[int, str, Any], User],
) -> AuditEntry:
    if cursor.source == SOURCE_ASSIGNED:
        who, action = row.assigned_by, pgettext("audit log action", "Assigned")
        old, new = previous.get((row.company_id, row.role, row.valid_from)), row.agent
    else:
        who, action = row.ended_by, pgettext("audit log action", "Ended")
        old, new = row.agent, None
    return AuditEntry(
        at=cursor.at,
        who=who,
        object_type=str(DedicatedAssignment._meta.verbose_name),
        object=str(row.company),
        action=action,
        message=assignment_change_message(role=row.role, old=old, new=new),
        cursor=cursor,
    )
