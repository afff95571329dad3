"""Every write to SLA targets: opening, answering, pausing, recomputing and the breach scan."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import MANAGERS_GROUP, AssignmentRole, DedicatedAssignment, User
from accounts.selectors import desk_date
from desk.business_time import BusinessCalendar
from desk.selectors import calendar_clock
from sla.models import (
    Clock,
    ScanHeartbeat,
    SlaPolicy,
    SlaPolicyTarget,
    SlaTarget,
    TargetKind,
    TargetState,
)
from sla.selectors import policies_for_companies, policy_for_company
from sla.signals import DueKind, DueTarget, announce_due
from tickets import services as ticket_services
from tickets.models import (
    ACTIVE_STATUSES,
    Channel,
    EscalationSource,
    EventKind,
    Notification,
    NotificationKind,
    Severity,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    Visibility,
)

# Channels the seed promises only in business hours: what arrives while closed waits for opening.
BUSINESS_HOURS_CHANNELS = frozenset({Channel.EMAIL, Channel.CHAT, Channel.VOICEMAIL})
WARNING_SHARE = 0.8
# The seed: out-of-hours calls go to voicemail, and we call back as quickly as we can; the promise
# is one business hour from the clock's start (the next opening, for a voicemail left closed).
CALLBACK_WITHIN = datetime.timedelta(hours=1)
ESCALATING_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})


def policy_for_ticket(*, ticket: Ticket) -> SlaPolicy:
    """The policy in force for the ticket's company on the day the ticket came in."""
    return policy_for_company(company=ticket.company, on=desk_date(ticket.created_at))


def clock_start(*, ticket: Ticket, calendar: BusinessCalendar) -> datetime.datetime:
    """When the SLA clock starts: at once, unless a business-hours channel received it closed."""
    if ticket.channel in BUSINESS_HOURS_CHANNELS and not calendar.is_open(ticket.created_at):
        return calendar.next_opening(ticket.created_at)
    return ticket.created_at


def _set_deadlines(target: SlaTarget, *, changed_at: datetime.datetime | None = None) -> None:
    """Count the deadlines from the target's start; for a change made at `changed_at`, never
    before it: a deadline already past then runs from the change, and a warning already due
    is dated at the change."""
    clock = target.business_calendar()
    target.due_at = clock.add(target.started_at, target.target)
    target.warn_at = clock.add(target.started_at, target.target * WARNING_SHARE)
    target.rebased_at = None
    if changed_at is None:
        return
    if target.due_at <= changed_at:
        target.rebased_at = changed_at
        target.due_at = clock.add(changed_at, target.target)
        target.warn_at = clock.add(changed_at, target.target * WARNING_SHARE)
    target.warn_at = max(target.warn_at, changed_at)


def _new_target(
    *,
    ticket: Ticket,
    kind: TargetKind,
    policy: SlaPolicy,
    duration: datetime.timedelta,
    clock: str,
    received_at: datetime.datetime,
    started_at: datetime.datetime,
    changed_at: datetime.datetime | None = None,
) -> SlaTarget:
    """A target with its deadlines counted, not yet saved."""
    target = SlaTarget(
        ticket=ticket,
        kind=kind,
        assignee_id=ticket.assignee_id,
        policy=policy,
        severity=ticket.severity,
        target=duration,
        clock=clock,
        calendar=policy.calendar,
        received_at=received_at,
        started_at=started_at,
        created_at=received_at,
    )
    _set_deadlines(target, changed_at=changed_at)
    return target


def _open_target(
    *,
    ticket: Ticket,
    kind: TargetKind,
    policy: SlaPolicy,
    duration: datetime.timedelta,
    clock: str,
    received_at: datetime.datetime,
    started_at: datetime.datetime,
    changed_at: datetime.datetime | None = None,
) -> SlaTarget:
    target = _new_target(
        ticket=ticket,
        kind=kind,
        policy=policy,
        duration=duration,
        clock=clock,
        received_at=received_at,
        started_at=started_at,
        changed_at=changed_at,
    )
    target.save()
    return target


def _policy_target(policy: SlaPolicy, severity: int) -> SlaPolicyTarget:
    """The policy's target for a severity, from its prefetched targets when read with them."""
    for rule in policy.targets.all():
        if rule.severity == severity:
            return rule
    raise SlaPolicyTarget.DoesNotExist(f"{policy} has no target for severity {severity}.")


def sla_tickets_created(*, tickets: Sequence[Ticket]) -> list[SlaTarget]:
    """Open the first-response target of new tickets, and a voicemail's callback target, with
    their deadlines counted in Python: a few queries for the policies, one INSERT for the
    targets and one UPDATE for the tickets' clock starts and deadlines, however many tickets.
    Returns the first-response targets, in the tickets' order."""
    if not tickets:
        return []
    policies: dict[tuple[int, datetime.date], SlaPolicy] = {}
    days: dict[datetime.date, set[int]] = {}
    for ticket in tickets:
        days.setdefault(desk_date(ticket.created_at), set()).add(ticket.company_id)
    for day, company_ids in days.items():
        for company_id, policy in policies_for_companies(company_ids=company_ids, on=day).items():
            policies[company_id, day] = policy
    targets: list[SlaTarget] = []
    first_responses: list[SlaTarget] = []
    for ticket in tickets:
        policy = policies[ticket.company_id, desk_date(ticket.created_at)]
        rule = _policy_target(policy, ticket.severity)
        started_at = clock_start(
            ticket=ticket, calendar=calendar_clock(calendar_id=policy.calendar_id)
        )
        opened = []
        if ticket.channel == Channel.VOICEMAIL:
            opened.append(
                _new_target(
                    ticket=ticket,
                    kind=TargetKind.CALLBACK,
                    policy=policy,
                    duration=CALLBACK_WITHIN,
                    clock=Clock.BUSINESS,
                    received_at=ticket.created_at,
                    started_at=started_at,
                )
            )
        first_response = _new_target(
            ticket=ticket,
            kind=TargetKind.FIRST_RESPONSE,
            policy=policy,
            duration=rule.first_response,
            clock=rule.first_response_clock,
            received_at=ticket.created_at,
            started_at=started_at,
        )
        opened.append(first_response)
        first_responses.append(first_response)
        targets.extend(opened)
        # A new ticket waits for staff on exactly these targets: its queue key is the earliest.
        earliest = min(opened, key=lambda target: target.due_at)
        ticket.sla_clock_started_at = started_at
        ticket.sla_due_at, ticket.sla_warn_at = earliest.due_at, earliest.warn_at
    SlaTarget.objects.bulk_create(targets)
    ticket_services.tickets_set_sla_deadlines(tickets=tickets)
    return first_responses


def _answer(target: SlaTarget, at: datetime.datetime) -> None:
    """Record that staff answered: a running target is met; a breached one keeps its breach."""
    target.fulfilled_at = at
    target.time_taken = target.business_calendar().elapsed(target.started_at, at)
    if target.state == TargetState.ACTIVE:
        target.state = TargetState.FULFILLED
    target.save(update_fields=["fulfilled_at", "time_taken", "state"])


def _unanswered(ticket: Ticket, *kinds: TargetKind) -> list[SlaTarget]:
    """Targets of these kinds still waiting for staff: running, or breached and not yet answered."""
    return list(
        ticket.sla_targets.filter(
            kind__in=kinds,
            state__in=[TargetState.ACTIVE, TargetState.BREACHED],
            fulfilled_at__isnull=True,
        ).select_related("calendar")
    )


def _open_follow_up(
    ticket: Ticket,
    *,
    policy: SlaPolicy,
    at: datetime.datetime,
    changed_at: datetime.datetime | None = None,
) -> None:
    """Open a follow-up running from `at`; opened by a change made later (`changed_at`), it is
    never due before that change."""
    rule = _policy_target(policy, ticket.severity)
    if rule.follow_up is None or ticket.status not in ACTIVE_STATUSES:
        return
    _open_target(
        ticket=ticket,
        kind=TargetKind.FOLLOW_UP,
        policy=policy,
        duration=rule.follow_up,
        clock=rule.follow_up_clock,
        received_at=at,
        started_at=at,
        changed_at=changed_at,
    )


def _policy_opened_under(ticket: Ticket) -> SlaPolicy:
    """The policy the ticket opened under; a later plan change does not move its goalposts."""
    first = ticket.sla_targets.select_related("policy__calendar").order_by("pk").first()
    return first.policy if first is not None else policy_for_ticket(ticket=ticket)


def sla_staff_replied(*, ticket: Ticket, at: datetime.datetime) -> None:
    """A staff public reply answers the waiting first response or follow-up and starts the next
    follow-up; a callback still owes its call."""
    for target in _unanswered(ticket, TargetKind.FIRST_RESPONSE, TargetKind.FOLLOW_UP):
        _answer(target, at)
    _open_follow_up(ticket, policy=_policy_opened_under(ticket), at=at)


def sla_called_back(*, ticket: Ticket, at: datetime.datetime) -> None:
    """The agent phoned the customer back: the callback is met, and the call answers what waited
    for staff, as a reply would."""
    for target in _unanswered(ticket, TargetKind.CALLBACK):
        _answer(target, at)
    sla_staff_replied(ticket=ticket, at=at)


def _stop(targets: list[SlaTarget], at: datetime.datetime) -> None:
    for target in targets:
        target.state = TargetState.CANCELLED
        target.cancelled_at = at
        target.save(update_fields=["state", "cancelled_at"])


def _running(ticket: Ticket, *kinds: TargetKind) -> list[SlaTarget]:
    return list(
        ticket.sla_targets.filter(state=TargetState.ACTIVE, kind__in=kinds).select_related(
            "calendar"
        )
    )


def _first_response_given(ticket: Ticket) -> bool:
    return ticket.sla_targets.filter(
        kind=TargetKind.FIRST_RESPONSE, fulfilled_at__isnull=False
    ).exists()


def _awaiting_answer(
    ticket: Ticket, kind: TargetKind, since: datetime.datetime | None = None
) -> bool:
    """Whether a target of this kind still waits for staff: running, or breached and unanswered."""
    pending = ticket.sla_targets.filter(
        kind=kind,
        state__in=[TargetState.ACTIVE, TargetState.BREACHED],
        fulfilled_at__isnull=True,
    )
    if since is not None:
        pending = pending.filter(started_at__gte=since)
    return pending.exists()


def sla_status_changed(*, ticket: Ticket, previous_status: str, at: datetime.datetime) -> None:
    """Waiting, solved and closed stop the follow-up clock; reopening starts a new one."""
    was_active = previous_status in ACTIVE_STATUSES
    is_active = ticket.status in ACTIVE_STATUSES
    if ticket.status in (Status.SOLVED, Status.CLOSED):
        # Also from waiting, where an unanswered first response is still running.
        _stop(
            _running(ticket, TargetKind.FOLLOW_UP, TargetKind.FIRST_RESPONSE, TargetKind.CALLBACK),
            at,
        )
    elif was_active and not is_active:
        _stop(_running(ticket, TargetKind.FOLLOW_UP), at)
    elif is_active and not was_active:
        policy = _policy_opened_under(ticket)
        if _first_response_given(ticket):
            # A staff reply that reopens the ticket has already started the follow-up.
            if not _running(ticket, TargetKind.FOLLOW_UP):
                _open_follow_up(ticket, policy=policy, at=at)
        elif not _awaiting_answer(ticket, TargetKind.FIRST_RESPONSE):
            rule = _policy_target(policy, ticket.severity)
            _open_target(
                ticket=ticket,
                kind=TargetKind.FIRST_RESPONSE,
                policy=policy,
                duration=rule.first_response,
                clock=rule.first_response_clock,
                received_at=at,
                started_at=at,
            )


def _follow_up_start(ticket: Ticket) -> datetime.datetime:
    """The later of the last staff public reply and the last time the ticket became open."""
    last_reply = TicketMessage.objects.filter(
        ticket=ticket,
        visibility=Visibility.PUBLIC,
        is_automatic=False,
        author__company__isnull=True,
    ).aggregate(at=Max("created_at"))["at"]
    last_reopen = TicketEvent.objects.filter(
        ticket=ticket, kind=EventKind.STATUS, data__new__in=list(ACTIVE_STATUSES)
    ).aggregate(at=Max("created_at"))["at"]
    candidates = [moment for moment in (last_reply, last_reopen) if moment is not None]
    return max(candidates) if candidates else ticket.created_at


def sla_severity_changed(*, ticket: Ticket, at: datetime.datetime) -> None:
    """Running targets take the new severity's targets from their own start; breaches stay."""
    policy = _policy_opened_under(ticket)
    rule = _policy_target(policy, ticket.severity)
    running = _running(ticket, TargetKind.FIRST_RESPONSE, TargetKind.FOLLOW_UP)
    for target in running:
        if target.kind == TargetKind.FIRST_RESPONSE:
            target.target, target.clock = rule.first_response, rule.first_response_clock
        elif rule.follow_up is None:
            _stop([target], at)
            continue
        else:
            target.target, target.clock = rule.follow_up, rule.follow_up_clock
        target.severity = ticket.severity
        _set_deadlines(target, changed_at=at)
        target.save(
            update_fields=["target", "clock", "severity", "due_at", "warn_at", "rebased_at"]
        )
    has_follow_up = any(target.kind == TargetKind.FOLLOW_UP for target in running)
    if (
        not has_follow_up
        and rule.follow_up is not None
        and ticket.status in ACTIVE_STATUSES
        and _first_response_given(ticket)
    ):
        start = _follow_up_start(ticket)
        # A follow-up of this same wait that already breached stands; a second would breach twice.
        if not _awaiting_answer(ticket, TargetKind.FOLLOW_UP, since=start):
            _open_follow_up(ticket, policy=policy, at=start, changed_at=at)


@dataclass(frozen=True)
class ScanResult:
    warned: int
    breached: int
    escalated: int


def sla_scan(*, now: datetime.datetime | None = None, batch_size: int = 1000) -> ScanResult:
    """Breach, then warn, every due target exactly once; safe to run twice or concurrently."""
    now = now or timezone.now()
    warned = breached = escalated = 0
    # Breaches first: a row past its deadline leaves the warning index before the warning pass.
    while True:
        count, escalations = _breach_batch(now=now, batch_size=batch_size)
        if not count:
            break
        breached += count
        escalated += escalations
    while count := _warn_batch(now=now, batch_size=batch_size):
        warned += count
    # The wall clock, not `now`: the health page asks when a scan last ran, not what it scanned.
    scan_heartbeat_record(at=timezone.now())
    return ScanResult(warned=warned, breached=breached, escalated=escalated)


def scan_heartbeat_record(*, at: datetime.datetime) -> None:
    """Store `at` as the moment the breach scan last finished: one UPDATE of the single row."""
    heartbeats = ScanHeartbeat.objects.filter(pk=ScanHeartbeat.SINGLETON)
    if not heartbeats.update(finished_at=at):
        # The very first scan; a concurrent first one may create the row first, which is fine.
        ScanHeartbeat.objects.get_or_create(
            pk=ScanHeartbeat.SINGLETON, defaults={"finished_at": at}
        )


@dataclass(frozen=True)
class _DueTarget:
    pk: int
    ticket_id: int
    kind: str
    severity: int
    due_at: datetime.datetime
    moment: datetime.datetime  # when the warning or breach happened


def _claim(queryset: QuerySet[SlaTarget], *, moment: str, batch_size: int) -> list[_DueTarget]:
    """Lock a batch of due rows, skipping rows another scan holds, and read what the scan needs."""
    rows = queryset.select_for_update(skip_locked=True, of=("self",)).values_list(
        "pk", "ticket_id", "kind", "severity", "due_at", moment
    )[:batch_size]
    return [_DueTarget(*row) for row in rows]


@transaction.atomic
def _warn_batch(*, now: datetime.datetime, batch_size: int) -> int:
    targets = _claim(
        SlaTarget.objects.filter(
            state=TargetState.ACTIVE, warned_at__isnull=True, warn_at__lte=now, due_at__gt=now
        ).order_by("warn_at"),
        moment="warn_at",
        batch_size=batch_size,
    )
    if not targets:
        return 0
    SlaTarget.objects.filter(pk__in=[target.pk for target in targets]).update(
        warned_at=F("warn_at")
    )
    _record(targets, event=EventKind.SLA_WARNING, notice=NotificationKind.SLA_WARNING, now=now)
    return len(targets)


@transaction.atomic
def _breach_batch(*, now: datetime.datetime, batch_size: int) -> tuple[int, int]:
    targets = _claim(
        SlaTarget.objects.filter(state=TargetState.ACTIVE, due_at__lte=now).order_by("due_at"),
        moment="due_at",
        batch_size=batch_size,
    )
    if not targets:
        return 0, 0
    # The breach happened at the deadline, not when a late scan noticed it.
    SlaTarget.objects.filter(pk__in=[target.pk for target in targets]).update(
        state=TargetState.BREACHED,
        breached_at=F("due_at"),
        warned_at=Coalesce("warned_at", "warn_at"),
    )
    _record(targets, event=EventKind.SLA_BREACH, notice=NotificationKind.SLA_BREACH, now=now)
    escalated = ticket_services.tickets_escalate_bulk(
        moments={
            target.ticket_id: target.due_at
            for target in targets
            if target.kind == TargetKind.FIRST_RESPONSE and target.severity in ESCALATING_SEVERITIES
        },
        source=EscalationSource.SLA,
        now=now,
    )
    return len(targets), escalated


def _record(
    targets: list[_DueTarget],
    *,
    event: EventKind,
    notice: NotificationKind,
    now: datetime.datetime,
) -> None:
    """Write the ticket events and the notifications for a claimed batch, in bulk, and tell
    other apps (`sla.signals.sla_targets_due`)."""
    tickets = {
        pk: (assignee_id, company_id)
        for pk, assignee_id, company_id in Ticket.objects.filter(
            pk__in={target.ticket_id for target in targets}
        ).values_list("pk", "assignee_id", "company_id")
    }
    contacts = _dedicated_contacts({company_id for _, company_id in tickets.values()})
    managers: list[int] = []
    if notice == NotificationKind.SLA_BREACH:
        managers = list(
            User.objects.filter(groups__name=MANAGERS_GROUP, is_active=True).values_list(
                "pk", flat=True
            )
        )
    ticket_services.ticket_events_bulk_record(
        events=[
            TicketEvent(
                ticket_id=target.ticket_id,
                kind=event,
                data={
                    "target": target.pk,
                    "kind": target.kind,
                    "due_at": target.due_at.isoformat(),
                },
                created_at=target.moment,
            )
            for target in targets
        ]
    )
    notifications: list[Notification] = []
    for target in targets:
        assignee_id, company_id = tickets[target.ticket_id]
        recipients = {
            recipient
            for recipient in (assignee_id, contacts.get(company_id), *managers)
            if recipient is not None
        }
        notifications.extend(
            Notification(
                recipient_id=recipient,
                kind=notice,
                ticket_id=target.ticket_id,
                subject_key=f"sla:{target.pk}",
                created_at=target.moment,
            )
            for recipient in recipients
        )
    ticket_services.notifications_bulk_create(notifications=notifications)
    announce_due(
        kind=DueKind.BREACH if event == EventKind.SLA_BREACH else DueKind.WARNING,
        targets=[
            DueTarget(
                target_id=target.pk,
                ticket_id=target.ticket_id,
                target_kind=target.kind,
                due_at=target.due_at,
                at=target.moment,
            )
            for target in targets
        ],
        now=now,
    )


def _dedicated_contacts(company_ids: set[int]) -> dict[int, int]:
    """Each company's dedicated agent, or its backup where no dedicated agent is assigned."""
    contacts: dict[int, int] = {}
    rows = (
        DedicatedAssignment.objects.filter(company_id__in=company_ids)
        .current()
        .order_by("role")
        .values_list("company_id", "role", "agent_id")
    )
    for company_id, role, agent_id in rows:
        if role == AssignmentRole.DEDICATED or company_id not in contacts:
            contacts[company_id] = agent_id
    return contacts


def sla_sync_ticket_deadline(*, ticket: Ticket) -> None:
    """Copy the earliest deadline still waiting for staff onto the ticket (the queue's key)."""
    pending = (
        ticket.sla_targets.filter(
            state__in=[TargetState.ACTIVE, TargetState.BREACHED], fulfilled_at__isnull=True
        )
        .order_by("due_at")
        .values_list("due_at", "warn_at")
        .first()
    )
    due_at, warn_at = pending if pending is not None else (None, None)
    ticket_services.ticket_set_sla_deadline(ticket=ticket, due_at=due_at, warn_at=warn_at)


def sla_ticket_assigned(*, ticket: Ticket) -> None:
    """Running targets follow the ticket's new assignee; met and breached ones keep theirs."""
    SlaTarget.objects.filter(ticket=ticket, state=TargetState.ACTIVE).update(
        assignee_id=ticket.assignee_id
    )
