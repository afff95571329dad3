import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from accounts import services as account_services
from accounts.models import MANAGERS_GROUP, Tier
from accounts.tests.factories import (
    AgentFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
    vip_company,
)
from sla.models import ScanHeartbeat, SlaTarget, TargetKind, TargetState
from sla.selectors import scan_last_finished_at
from sla.services import sla_scan
from tickets import services as ticket_services
from tickets.models import (
    Escalation,
    EscalationSource,
    EventKind,
    Notification,
    NotificationKind,
    TicketEvent,
)
from tickets.tests.factories import make_ticket

# Monday 2026-11-30 09:00 CET is 08:00 UTC.
MONDAY_0900 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _monday_morning():
    """The tests scan at explicit moments of that Monday; everything else happens at 09:00."""
    with time_machine.travel(MONDAY_0900, tick=True):
        yield


@pytest.fixture
def people():
    company = vip_company(name="Acme Ltd")
    agent = AgentFactory(email="maria@support.example")
    senior = SeniorFactory(email="georgi@support.example")
    account_services.company_assign_agents(company=company, dedicated=agent, backup=senior)
    manager = UserFactory(email="elena@support.example")
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return {
        "company": company,
        "customer": CustomerFactory(company=company),
        "agent": agent,
        "senior": senior,
        "manager": manager,
    }


def recipients(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


@pytest.mark.django_db
class TestBreaches:
    def test_a_late_scan_records_the_true_due_instant(self, people):
        ticket = make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)
        due = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)

        result = sla_scan(now=MONDAY_0900 + timedelta(days=1))

        assert (result.warned, result.breached, result.escalated) == (0, 1, 0)
        target = SlaTarget.objects.get(ticket=ticket)
        assert target.state == TargetState.BREACHED
        assert target.breached_at == due
        event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.SLA_BREACH)
        assert event.created_at == due
        assert event.data["kind"] == TargetKind.FIRST_RESPONSE

    def test_breach_notifies_assignee_dedicated_agent_and_managers(self, people):
        ticket = make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)
        other = AgentFactory(email="ivan@support.example")
        ticket_services.ticket_assign(ticket=ticket, assignee=other, actor=None, at=MONDAY_0900)

        sla_scan(now=MONDAY_0900 + timedelta(hours=3))

        assert recipients(NotificationKind.SLA_BREACH) == [
            "elena@support.example",
            "ivan@support.example",
            "maria@support.example",
        ]

    def test_the_backup_is_told_when_no_dedicated_agent_is_assigned(self, people):
        account_services.company_assign_agents(
            company=people["company"], dedicated=people["senior"]
        )
        make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)

        sla_scan(now=MONDAY_0900 + timedelta(hours=3))

        assert "georgi@support.example" in recipients(NotificationKind.SLA_BREACH)

    def test_a_second_scan_finds_nothing_and_writes_nothing(self, people):
        make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)
        later = MONDAY_0900 + timedelta(hours=3)
        sla_scan(now=later)
        counts = (TicketEvent.objects.count(), Notification.objects.count())

        result = sla_scan(now=later)

        assert (result.warned, result.breached) == (0, 0)
        assert (TicketEvent.objects.count(), Notification.objects.count()) == counts

    def test_targets_not_yet_due_are_left_alone(self, people):
        make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)

        result = sla_scan(now=datetime(2026, 11, 30, 9, 59, 59, tzinfo=UTC))

        assert result.breached == 0
        assert SlaTarget.objects.get().state == TargetState.ACTIVE

    def test_a_scan_in_batches_catches_up_every_overdue_row(self, people):
        for _ in range(7):
            make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)

        result = sla_scan(now=MONDAY_0900 + timedelta(days=1), batch_size=3)

        assert result.breached == 7
        assert SlaTarget.objects.filter(state=TargetState.BREACHED).count() == 7


@pytest.mark.django_db
class TestWarnings:
    def test_warning_at_80_percent_of_the_target_in_its_own_clock(self, people):
        ticket = make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)
        warn_at = MONDAY_0900 + timedelta(minutes=96)

        assert sla_scan(now=warn_at - timedelta(seconds=1)).warned == 0
        assert sla_scan(now=warn_at).warned == 1

        target = SlaTarget.objects.get(ticket=ticket)
        assert target.warned_at == warn_at
        assert target.state == TargetState.ACTIVE
        assert recipients(NotificationKind.SLA_WARNING) == ["maria@support.example"]
        assert TicketEvent.objects.filter(kind=EventKind.SLA_WARNING).count() == 1

    def test_a_warning_is_sent_once_and_the_breach_follows(self, people):
        make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)
        sla_scan(now=MONDAY_0900 + timedelta(minutes=100))
        sla_scan(now=MONDAY_0900 + timedelta(minutes=110))

        result = sla_scan(now=MONDAY_0900 + timedelta(hours=2))

        assert (result.warned, result.breached) == (0, 1)
        assert TicketEvent.objects.filter(kind=EventKind.SLA_WARNING).count() == 1

    def test_after_an_outage_an_overdue_row_is_breached_without_a_stale_warning(self, people):
        make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)

        result = sla_scan(now=MONDAY_0900 + timedelta(days=1))

        assert (result.warned, result.breached) == (0, 1)
        assert not Notification.objects.filter(kind=NotificationKind.SLA_WARNING).exists()
        assert SlaTarget.objects.get().warned_at == MONDAY_0900 + timedelta(minutes=96)


@pytest.mark.django_db
class TestEscalation:
    def test_a_breached_sev1_first_response_goes_to_tier_2(self, people):
        ticket = make_ticket(requester=people["customer"], severity=1, at=MONDAY_0900)

        result = sla_scan(now=MONDAY_0900 + timedelta(hours=2))

        assert result.escalated == 1
        ticket.refresh_from_db()
        assert ticket.tier == Tier.SENIOR
        escalation = Escalation.objects.get(ticket=ticket)
        assert escalation.source == EscalationSource.SLA
        assert escalation.reason_text == "SLA breach"
        assert escalation.created_at == MONDAY_0900 + timedelta(hours=1)
        assert recipients(NotificationKind.ESCALATION) == ["georgi@support.example"]

    def test_the_automatic_reason_reads_in_the_viewers_language(self, people, client):
        ticket = make_ticket(requester=people["customer"], severity=1, at=MONDAY_0900)
        sla_scan(now=MONDAY_0900 + timedelta(hours=2))
        senior = people["senior"]
        senior.preferred_language = "bg"
        senior.save(update_fields=["preferred_language"])
        client.force_login(senior)

        page = client.get(f"/queue/tickets/{ticket.pk}/").text

        assert "SLA breach" not in page
        assert "Нарушен SLA" in page
        assert Escalation.objects.get(ticket=ticket).reason == ""  # no stored English

    def test_sev2_escalates_too(self, people):
        make_ticket(requester=people["customer"], severity=2, at=MONDAY_0900)

        assert sla_scan(now=MONDAY_0900 + timedelta(hours=2)).escalated == 1

    @pytest.mark.parametrize("severity", [3, 4, 5])
    def test_lower_severities_do_not_escalate(self, people, severity):
        make_ticket(requester=people["customer"], severity=severity, at=MONDAY_0900)

        result = sla_scan(now=MONDAY_0900 + timedelta(days=3))

        assert (result.breached, result.escalated) == (1, 0)
        assert not Escalation.objects.exists()

    def test_a_breached_sev1_follow_up_does_not_escalate_again(self, people):
        ticket = make_ticket(requester=people["customer"], severity=1, at=MONDAY_0900)
        ticket_services.ticket_reply(
            ticket=ticket, author=people["agent"], body="On it.", at=MONDAY_0900
        )

        result = sla_scan(now=MONDAY_0900 + timedelta(hours=5))

        assert (result.breached, result.escalated) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_breach_each_row_exactly_once(people):
    tickets = [
        make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900) for _ in range(60)
    ]
    now = MONDAY_0900 + timedelta(days=1)
    barrier = threading.Barrier(4)
    results = []
    errors = []

    def scan():
        try:
            barrier.wait()
            results.append(sla_scan(now=now, batch_size=7))
        except Exception as error:  # pragma: no cover - surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(result.breached for result in results) == len(tickets)
    assert TicketEvent.objects.filter(kind=EventKind.SLA_BREACH).count() == len(tickets)
    assert Notification.objects.filter(kind=NotificationKind.SLA_BREACH).count() == 2 * len(tickets)


@pytest.mark.django_db
def test_the_management_command_runs_one_scan_and_says_what_it_did(people):
    make_ticket(requester=people["customer"], severity=3, at=MONDAY_0900)  # due 11:00 CET
    out = StringIO()

    with time_machine.travel(MONDAY_0900 + timedelta(hours=3), tick=False):
        call_command("scan_breaches", stdout=out)

    assert out.getvalue().strip() == "warned 0, breached 1, escalated 0"


@pytest.mark.django_db
def test_celery_beat_runs_the_scan_every_30_seconds_and_drops_stale_runs():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="sla.tasks.scan_breaches")

    assert (task.interval.every, task.interval.period) == (30, "seconds")
    assert task.enabled
    assert 0 < task.expire_seconds <= 30


@pytest.mark.django_db
def test_every_scan_records_when_it_finished_in_one_row():
    assert scan_last_finished_at() is None

    with time_machine.travel(MONDAY_0900 + timedelta(hours=1), tick=False):
        sla_scan(now=MONDAY_0900 + timedelta(days=3))  # nothing due; still a finished scan
    assert scan_last_finished_at() == MONDAY_0900 + timedelta(hours=1)  # the wall clock

    with time_machine.travel(MONDAY_0900 + timedelta(hours=2), tick=False):
        sla_scan()
    assert scan_last_finished_at() == MONDAY_0900 + timedelta(hours=2)
    assert ScanHeartbeat.objects.count() == 1
