"""The breach scan end to end: Redis broker, a real Celery worker, PostgreSQL, e-mail."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail

from accounts import services as account_services
from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from sla.models import SlaTarget, TargetState
from sla.tasks import scan_breaches
from tickets.tests.factories import make_ticket
from vipsupport.celery import app

# Monday 2026-11-30 09:00 CET: a Sev 3 ticket opened then is due at 11:00 CET.
MONDAY_0900 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_the_scan_task_breaches_through_a_real_worker_and_mails_the_agent(mailoutbox):
    with time_machine.travel(MONDAY_0900, tick=True) as clock:
        company = vip_company()
        agent = AgentFactory(email="maria@support.example", preferred_language="bg")
        account_services.company_assign_agents(company=company, dedicated=agent)
        ticket = make_ticket(requester=CustomerFactory(company=company), severity=3)
        # Ticking on from noon: the worker's own timers need the clock to move.
        clock.move_to(MONDAY_0900 + timedelta(hours=3))
        app.control.purge()
        _scan_through_a_worker()

    assert SlaTarget.objects.get(ticket=ticket).state == TargetState.BREACHED
    assert [message.to for message in mailoutbox] == [["maria@support.example"]]
    assert "Нарушен SLA" in mailoutbox[0].subject


def _scan_through_a_worker() -> None:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = scan_breaches.delay()
        assert result.get(timeout=30) == {"warned": 0, "breached": 1, "escalated": 0}
        deadline = time.monotonic() + 30
        # The notice's e-mail is written by one task after the scan's commit and sent by the
        # outbox's, after that one commits.
        while not mail.outbox:
            assert time.monotonic() < deadline, "the e-mail tasks never ran"
            time.sleep(0.2)
