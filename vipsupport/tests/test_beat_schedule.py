"""The Celery Beat schedule in `vipsupport/beat.py` is what django-celery-beat's tables hold."""

import dataclasses
import datetime
import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from vipsupport import beat
from vipsupport.beat import BEAT_SCHEDULE, beat_schedule_sync

SCAN = "SLA breach scan"
LONG_AGO = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def project_rows() -> list[tuple]:
    """Every row of a project app's task: name, task, interval, expiry, enabled."""
    prefixes = tuple(f"{app}." for app in beat.project_apps())
    return sorted(
        (
            row.name,
            row.task,
            row.interval.every if row.interval else None,
            row.interval.period if row.interval else None,
            row.expire_seconds,
            row.enabled,
        )
        for row in PeriodicTask.objects.select_related("interval")
        if row.task.startswith(prefixes)
    )


def schedule_rows(schedule: tuple[beat.BeatEntry, ...] = BEAT_SCHEDULE) -> list[tuple]:
    return sorted(
        (entry.name, entry.task, entry.every, entry.period, entry.expire_seconds, True)
        for entry in schedule
    )


def test_every_entry_is_a_project_task_that_expires_within_its_interval():
    assert len({entry.name for entry in BEAT_SCHEDULE}) == len(BEAT_SCHEDULE)
    for entry in BEAT_SCHEDULE:
        module, _, function = entry.task.rpartition(".")
        assert getattr(importlib.import_module(module), function).name == entry.task
        assert module.split(".")[0] in beat.project_apps()
        assert 0 < entry.expire_seconds <= entry.every * SECONDS[entry.period]


def test_the_project_apps_are_the_repositorys_own():
    apps = beat.project_apps()

    assert {"accounts", "tickets", "sla", "scheduling", "vipsupport"} <= set(apps)
    assert not [app for app in apps if app.startswith(("django", "axes"))]


@pytest.mark.django_db
def test_migrate_writes_the_schedule_in_code_to_the_beat_tables():
    PeriodicTask.objects.all().delete()
    IntervalSchedule.objects.all().delete()

    call_command("migrate", interactive=False, verbosity=0)

    assert project_rows() == schedule_rows()
    assert [
        (row.task, row.interval.every, row.interval.period, row.expire_seconds)
        for row in PeriodicTask.objects.filter(name=SCAN)
    ] == [("sla.tasks.scan_breaches", 30, "seconds", 25)]


@pytest.mark.django_db
def test_a_second_sync_changes_nothing():
    beat_schedule_sync()
    rows = {
        row.name: (row.pk, row.interval_id, row.date_changed) for row in PeriodicTask.objects.all()
    }
    intervals = list(IntervalSchedule.objects.order_by("pk").values_list("pk", "every", "period"))
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": LONG_AGO})

    result = beat_schedule_sync()

    assert not result.changed
    assert str(result) == "Beat schedule: created 0, updated 0, disabled 0"
    assert {
        row.name: (row.pk, row.interval_id, row.date_changed) for row in PeriodicTask.objects.all()
    } == rows
    assert (
        list(IntervalSchedule.objects.order_by("pk").values_list("pk", "every", "period"))
        == intervals
    )
    assert PeriodicTasks.last_change() == LONG_AGO  # a running Beat has nothing to reload
    assert project_rows() == schedule_rows()


@pytest.mark.django_db
def test_a_changed_interval_in_the_code_is_applied_to_the_same_row(monkeypatch):
    beat_schedule_sync()
    scan = PeriodicTask.objects.get(name=SCAN)
    changed = tuple(
        dataclasses.replace(entry, every=45, expire_seconds=40) if entry.name == SCAN else entry
        for entry in BEAT_SCHEDULE
    )
    monkeypatch.setattr(beat, "BEAT_SCHEDULE", changed)
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": LONG_AGO})

    result = beat_schedule_sync()

    assert (result.created, result.updated, result.disabled) == ([], [SCAN], [])
    row = PeriodicTask.objects.select_related("interval").get(name=SCAN)
    assert row.pk == scan.pk
    assert (row.interval.every, row.interval.period, row.expire_seconds) == (45, "seconds", 40)
    assert project_rows() == schedule_rows(changed)
    assert PeriodicTasks.last_change() > LONG_AGO  # a running Beat reloads its schedule


@pytest.mark.django_db
def test_rows_of_project_tasks_no_longer_in_the_schedule_are_disabled(monkeypatch):
    beat_schedule_sync()
    every_hour = IntervalSchedule.objects.create(every=1, period="hours")
    by_hand = PeriodicTask.objects.create(
        name="Old digest", task="tickets.tasks.send_digest", interval=every_hour
    )
    foreign = PeriodicTask.objects.create(
        name="Result cleanup", task="celery.backend_cleanup", interval=every_hour
    )
    without_scan = tuple(entry for entry in BEAT_SCHEDULE if entry.name != SCAN)
    monkeypatch.setattr(beat, "BEAT_SCHEDULE", without_scan)

    result = beat_schedule_sync()

    assert (result.created, result.updated, result.disabled) == ([], [], ["Old digest", SCAN])
    assert not PeriodicTask.objects.get(name=SCAN).enabled  # kept, with its history, but off
    by_hand.refresh_from_db()
    foreign.refresh_from_db()
    assert not by_hand.enabled
    assert foreign.enabled  # not a task of this project
    assert [row for row in project_rows() if row[-1]] == schedule_rows(without_scan)
    assert not beat_schedule_sync().changed


@pytest.mark.django_db
def test_rows_changed_by_hand_are_put_back():
    beat_schedule_sync()
    PeriodicTask.objects.filter(name="Send call reminders").update(
        enabled=False, expire_seconds=None
    )
    every_five = CrontabSchedule.objects.create(minute="*/5")
    PeriodicTask.objects.filter(name=SCAN).update(interval=None, crontab=every_five)

    result = beat_schedule_sync()

    assert sorted(result.updated) == ["SLA breach scan", "Send call reminders"]
    assert project_rows() == schedule_rows()
    assert PeriodicTask.objects.get(name=SCAN).crontab is None


@pytest.mark.django_db
def test_the_command_syncs_and_says_what_it_did():
    beat_schedule_sync()
    PeriodicTask.objects.filter(name="Refresh agents' busy-time feeds").delete()
    out = StringIO()

    call_command("sync_beat_schedule", stdout=out)

    assert out.getvalue().strip() == (
        "Beat schedule: created 1 (Refresh agents' busy-time feeds), updated 0, disabled 0"
    )
    assert project_rows() == schedule_rows()
