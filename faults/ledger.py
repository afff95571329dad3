"""The ledger of a fault run: what it left in the database and what the SMTP server received,
and every way that falls short of exactly once."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Ledger:
    """What the fault run left behind, and every way it falls short of exactly once."""

    breaches: int = 0
    warnings: int = 0
    escalations: int = 0
    notifications: int = 0
    emails: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.breaches} breaches, {self.warnings} warnings, {self.escalations} escalations "
            f"recorded; {self.notifications} notifications; {self.emails} e-mails, "
            f"{self.delivered} deliveries ({self.failed_attempts} refused attempts retried)"
        )


def ledger_read(
    *,
    ticket_ids: list[int],
    received: Counter[tuple[str, str]],
    now: datetime.datetime | None = None,
) -> Ledger:
    """Every deadline of the tickets breached once, at its deadline; every notice stored once and
    e-mailed once; every e-mail sent, and `received` (by Message-ID and recipient) exactly once.

    Imports Django's models when called: the fault scripts set Django up on their own servers."""
    from django.db.models import Count, F
    from django.utils import timezone

    from outbox.models import Email, EmailState
    from outbox.services import email_message
    from sla.models import SlaTarget, TargetState
    from tickets.models import EventKind, Notification, TicketEvent

    now = now or timezone.now()
    ledger = Ledger()
    problems = ledger.problems
    targets = SlaTarget.objects.filter(ticket_id__in=ticket_ids, due_at__lte=now)
    unbreached = targets.exclude(state=TargetState.BREACHED).count()
    if unbreached:
        problems.append(f"{unbreached} due deadlines never recorded as breached")
    late = targets.filter(state=TargetState.BREACHED).exclude(breached_at=F("due_at"))
    if late.exists():
        problems.append(f"{late.count()} breaches not stamped with their deadline")
    breached = set(
        SlaTarget.objects.filter(state=TargetState.BREACHED).values_list("pk", flat=True)
    )

    for kind, label in ((EventKind.SLA_BREACH, "breach"), (EventKind.SLA_WARNING, "warning")):
        per_target = Counter(
            TicketEvent.objects.filter(kind=kind).values_list("data__target", flat=True)
        )
        doubled = sum(count > 1 for count in per_target.values())
        if doubled:
            problems.append(f"{doubled} targets with their {label} recorded more than once")
        if kind == EventKind.SLA_BREACH:
            ledger.breaches = len(per_target)
            missing = breached - set(per_target)
            if missing:
                problems.append(f"{len(missing)} breached targets without their breach event")
        else:
            ledger.warnings = len(per_target)
    escalations = Counter(
        TicketEvent.objects.filter(kind=EventKind.ESCALATED).values_list("ticket_id", flat=True)
    )
    ledger.escalations = sum(escalations.values())
    if any(count > 1 for count in escalations.values()):
        problems.append("a ticket escalated more than once")

    notices = Notification.objects.all()
    ledger.notifications = notices.count()
    doubled_notices = (
        notices.values("recipient_id", "kind", "subject_key", "ticket_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    if doubled_notices:
        problems.append(f"{doubled_notices} notifications stored more than once")
    noticed = {
        int(key.removeprefix("sla:"))
        for key in notices.filter(subject_key__startswith="sla:").values_list(
            "subject_key", flat=True
        )
    }
    if breached - noticed:
        problems.append(f"{len(breached - noticed)} breaches nobody was notified of")
    if notices.filter(emailed_at__isnull=True).exists():
        problems.append("notifications never written as e-mails")

    emails = list(Email.objects.all())
    ledger.emails = len(emails)
    ledger.failed_attempts = sum(email.attempts for email in emails)
    per_topic = Counter(email.topic for email in emails if email.topic.startswith("notif"))
    if any(count > 1 for count in per_topic.values()):
        problems.append("a notification e-mailed more than once")
    if len(per_topic) != ledger.notifications:
        problems.append(
            f"{ledger.notifications - len(per_topic)} notifications without their e-mail"
        )
    unsent = Counter(email.state for email in emails if email.state != EmailState.SENT)
    if unsent:
        problems.append(f"e-mails not sent: {dict(unsent)}")
    expected = Counter(
        (str(email_message(email).extra_headers["Message-ID"]), email.to.lower())
        for email in emails
        if email.state == EmailState.SENT
    )
    ledger.delivered = sum(received.values())
    lost = sum(1 for key in expected if received[key] == 0)
    doubled_mail = sum(1 for key, count in received.items() if count > expected[key])
    if lost:
        problems.append(f"{lost} e-mails marked sent that the SMTP server never received")
    if doubled_mail:
        problems.append(f"{doubled_mail} e-mails received more than once (or unknown)")
    return ledger
