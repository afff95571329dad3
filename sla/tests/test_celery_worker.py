"""The breach scan end to end: Redis broker, a real Celery worker, PostgreSQL, e-mail."""

import time
from datetime import UTC, datetime

import pytest
from celery.contrib.testing.worker import start_worker

from accounts import services as account_services
from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from sla.models import SlaTarget, TargetState
from sla.tasks import scan_breaches
from tickets.models import Notification
from tickets.tests.factories import make_ticket
from vipsupport.celery import app


@pytest.mark.django_db(transaction=True)
def test_the_scan_task_breaches_through_a_real_worker_and_mails_the_agent(mailoutbox):
    company = vip_company()
    agent = AgentFactory(email="maria@support.example", preferred_language="bg")
    account_services.company_assign_agents(company=company, dedicated=agent)
    ticket = make_ticket(
        requester=CustomerFactory(company=company),
        severity=3,
        at=datetime(2020, 1, 6, 8, 0, tzinfo=UTC),
    )
    app.control.purge()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = scan_breaches.delay()
        assert result.get(timeout=30) == {"warned": 0, "breached": 1, "escalated": 0}
        deadline = time.monotonic() + 30
        while Notification.objects.filter(emailed_at__isnull=True).exists():
            assert time.monotonic() < deadline, "the e-mail task never ran"
            time.sleep(0.2)

    assert SlaTarget.objects.get(ticket=ticket).state == TargetState.BREACHED
    assert [message.to for message in mailoutbox] == [["maria@support.example"]]
    assert "Нарушен SLA" in mailoutbox[0].subject
