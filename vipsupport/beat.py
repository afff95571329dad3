"""The Celery Beat schedule: every periodic task of the project, in one place.

Beat runs with django-celery-beat's `DatabaseScheduler`, which reads `PeriodicTask` rows, so this
list reaches Beat through the database: `beat_schedule_sync()` makes the rows match it. It runs
after every `migrate` (a `post_migrate` receiver, connected in `vipsupport.apps`) and on demand as
`manage.py sync_beat_schedule`; a change it saves wakes a running Beat (django-celery-beat's
change marker), a sync with nothing to change saves nothing.

Rows are matched by name. The schedule owns a row's task, interval, `expire_seconds` and
`enabled`; the row's other fields (arguments, queue, run history, description) are left alone.
A row whose task belongs to one of the project's apps (`project_apps()`) but whose name is not
in the schedule (a task removed or renamed here, or added by hand in the admin) is disabled,
never deleted, so a project task runs on Beat only when it is listed below. Rows of other
packages' tasks are not touched.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Q

if TYPE_CHECKING:
    from django.apps import AppConfig
    from django_celery_beat.models import IntervalSchedule

Period = Literal["days", "hours", "minutes", "seconds"]


@dataclass(frozen=True)
class BeatEntry:
    """One periodic task: its `PeriodicTask` name, the Celery task, how often, how long it may wait.

    A run still queued `expire_seconds` after Beat sent it is dropped (the next one catches up).
    """

    name: str
    task: str
    every: int
    period: Period
    expire_seconds: int


BEAT_SCHEDULE: tuple[BeatEntry, ...] = (
    # The SLA engine's warnings, breaches and escalations (`sla.services.sla_scan`).
    BeatEntry("SLA breach scan", "sla.tasks.scan_breaches", 30, "seconds", expire_seconds=25),
    # Every e-mail the portal sends (`outbox`): a safety net beside the task each deciding
    # commit enqueues, so a broker outage only delays them.
    BeatEntry(
        "Send outgoing e-mails",
        "outbox.tasks.send_pending_emails",
        60,
        "seconds",
        expire_seconds=55,
    ),
    # Every outgoing webhook (`outbox.services.webhooks`): the same net for deliveries and their
    # retries, which fall due minutes after the commit that wrote them.
    BeatEntry(
        "Send outgoing webhooks",
        "outbox.tasks.send_pending_webhooks",
        60,
        "seconds",
        expire_seconds=55,
    ),
    # The same net for notices whose e-mails are written after their transaction commits.
    BeatEntry(
        "Write notification e-mails",
        "tickets.tasks.queue_notification_emails",
        60,
        "seconds",
        expire_seconds=55,
    ),
    # The 24-hour and 1-hour call reminders (`scheduling.services.reminders`).
    BeatEntry(
        "Send call reminders",
        "scheduling.tasks.send_due_reminders",
        60,
        "seconds",
        expire_seconds=55,
    ),
    # Agents' external busy-time calendars (`scheduling.services.feeds`).
    BeatEntry(
        "Refresh agents' busy-time feeds",
        "scheduling.tasks.refresh_busy_feeds",
        15,
        "minutes",
        expire_seconds=600,
    ),
    # The e-mail channel's hosted mailbox, read by UID (`mail.imap`); off without MAIL_IMAP_URL.
    BeatEntry("Poll the IMAP mailbox", "mail.tasks.poll_imap", 60, "seconds", expire_seconds=55),
    # Mail a transport stored but could not act on (it died between storing and processing).
    BeatEntry(
        "Process waiting mail",
        "mail.tasks.process_waiting_mail",
        5,
        "minutes",
        expire_seconds=240,
    ),
    # VIP chats nobody took within 2 minutes alert the backup agent (`chat.services`); the task
    # each chat schedules for its moment does it first, this catches what a lost task missed.
    BeatEntry(
        "Alert backups of waiting chats",
        "chat.tasks.alert_waiting_chat_backups",
        30,
        "seconds",
        expire_seconds=25,
    ),
)


def project_apps() -> list[str]:
    """The installed apps that are part of this repository, not installed packages: only this
    schedule may run their tasks on Beat."""
    from django.apps import apps

    root = Path(settings.BASE_DIR)
    return [
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(root)
        and not {"site-packages", "dist-packages"} & set(Path(config.path).parts)
    ]


@dataclass
class SyncResult:
    """The names of the `PeriodicTask` rows one sync created, changed and disabled."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.disabled)

    def __str__(self) -> str:
        parts = [
            f"{label} {len(names)}" + (f" ({', '.join(names)})" if names else "")
            for label, names in (
                ("created", self.created),
                ("updated", self.updated),
                ("disabled", self.disabled),
            )
        ]
        return "Beat schedule: " + ", ".join(parts)


def beat_schedule_sync(*, using: str = DEFAULT_DB_ALIAS) -> SyncResult:
    """Make django-celery-beat's rows in database `using` match `BEAT_SCHEDULE`.

    Idempotent: a second call finds nothing to change and writes nothing.
    """
    from django_celery_beat.models import PeriodicTask

    entries = BEAT_SCHEDULE
    result = SyncResult()
    with transaction.atomic(using=using):
        tasks = PeriodicTask.objects.using(using)
        for entry in entries:
            wanted: dict[str, Any] = {
                "task": entry.task,
                "expire_seconds": entry.expire_seconds,
                "enabled": True,
                # The model allows one kind of schedule and one kind of expiry per row.
                "crontab_id": None,
                "solar_id": None,
                "clocked_id": None,
                "expires": None,
            }
            row = tasks.select_related("interval").filter(name=entry.name).first()
            if row is None:
                tasks.create(name=entry.name, interval=_interval(entry, using), **wanted)
                result.created.append(entry.name)
                continue
            changes = {name: value for name, value in wanted.items() if getattr(row, name) != value}
            interval = row.interval
            if interval is None or (interval.every, interval.period) != (entry.every, entry.period):
                changes["interval"] = _interval(entry, using)
            if changes:
                for name, value in changes.items():
                    setattr(row, name, value)
                # PeriodicTask.save() also marks the schedule as changed, which Beat watches.
                row.save(using=using)
                result.updated.append(entry.name)

        ours = Q()
        for app in project_apps():
            ours |= Q(task__startswith=f"{app}.")
        removed = (
            tasks.filter(ours, enabled=True)
            .exclude(name__in=[entry.name for entry in entries])
            .order_by("name")
        )
        for row in removed:
            row.enabled = False
            row.save(using=using)
            result.disabled.append(row.name)
    return result


def _interval(entry: BeatEntry, using: str) -> IntervalSchedule:
    """The interval row for the entry (the oldest, should there be equal ones), made if missing."""
    from django_celery_beat.models import IntervalSchedule

    intervals = IntervalSchedule.objects.using(using)
    found = intervals.filter(every=entry.every, period=entry.period).order_by("pk").first()
    return found or intervals.create(every=entry.every, period=entry.period)


def sync_after_migrate(
    sender: AppConfig, *, using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, **kwargs: Any
) -> None:
    """`post_migrate` receiver for django-celery-beat's app: every migrate ends with a sync.

    Skipped while django-celery-beat's tables are missing (its migrations unapplied on `using`).
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if not router.allow_migrate_model(using, PeriodicTask):
        return
    tables = set(connections[using].introspection.table_names())
    if not {PeriodicTask._meta.db_table, IntervalSchedule._meta.db_table} <= tables:
        return
    result = beat_schedule_sync(using=using)
    if verbosity >= 2 and result.changed:
        stdout: TextIO = kwargs.get("stdout") or sys.stdout
        stdout.write(f"{result}\n")
