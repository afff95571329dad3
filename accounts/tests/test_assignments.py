from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts import services
from accounts.models import AssignmentRole, DedicatedAssignment
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    SeniorFactory,
    vip_company,
)

pytestmark = pytest.mark.django_db


def current(company):
    return {
        row.role: row.agent for row in DedicatedAssignment.objects.filter(company=company).current()
    }


def test_assigning_a_dedicated_and_a_backup_agent():
    company = vip_company()
    agent, senior = AgentFactory(), SeniorFactory()

    services.company_assign_agents(company=company, dedicated=agent, backup=senior)

    assert current(company) == {AssignmentRole.DEDICATED: agent, AssignmentRole.BACKUP: senior}


def test_a_company_without_the_addon_cannot_be_assigned():
    company = CompanyFactory(name="Globex")

    with pytest.raises(ValidationError) as error:
        services.company_assign_agents(company=company, dedicated=AgentFactory())

    assert "Globex has no active dedicated-agent add-on" in str(error.value)
    assert not DedicatedAssignment.objects.exists()


def test_only_agents_can_be_assigned():
    company = vip_company()

    with pytest.raises(ValidationError) as error:
        services.company_assign_agents(company=company, dedicated=CustomerFactory())

    assert "is not an agent" in str(error.value)


def test_backup_must_differ_from_dedicated():
    company = vip_company()
    agent = AgentFactory()

    with pytest.raises(ValidationError) as error:
        services.company_assign_agents(company=company, dedicated=agent, backup=agent)

    assert "someone other than the dedicated agent" in str(error.value)


def test_reassigning_closes_the_old_row_and_opens_a_new_one_at_the_same_instant():
    company = vip_company()
    first, second, senior = AgentFactory(), AgentFactory(), SeniorFactory()
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        services.company_assign_agents(company=company, dedicated=first, backup=senior)
    with time_machine.travel("2026-04-01 12:00Z", tick=False):
        services.company_assign_agents(company=company, dedicated=second, backup=senior)

    history = list(
        DedicatedAssignment.objects.filter(company=company, role=AssignmentRole.DEDICATED).order_by(
            "valid_from"
        )
    )
    assert [row.agent for row in history] == [first, second]
    assert history[0].valid_to == history[1].valid_from
    assert history[1].valid_to is None
    # The backup did not change, so its row stays open and untouched.
    backup_rows = DedicatedAssignment.objects.filter(company=company, role=AssignmentRole.BACKUP)
    assert backup_rows.count() == 1
    assert backup_rows.get().valid_to is None


def test_an_assignment_and_the_row_it_replaces_take_the_moment_given():
    company = vip_company()
    first, second = AgentFactory(), AgentFactory()
    monday = datetime(2026, 3, 2, 10, tzinfo=UTC)
    services.company_assign_agents(company=company, dedicated=first, now=monday)
    later = datetime(2026, 4, 1, 12, tzinfo=UTC)

    [opened] = services.company_assign_agents(company=company, dedicated=second, now=later)

    assert opened.valid_from == later
    replaced = DedicatedAssignment.objects.get(agent=first)
    assert (replaced.valid_from, replaced.valid_to) == (monday, later)


def test_ending_the_addon_closes_the_assignments_at_the_moment_given():
    company = vip_company()
    services.company_assign_agents(
        company=company, dedicated=AgentFactory(), now=datetime(2026, 3, 2, 10, tzinfo=UTC)
    )
    evening = datetime(2026, 5, 4, 18, 30, tzinfo=UTC)

    services.addon_end(subscription=company.addon_subscriptions.get(), now=evening)

    assert DedicatedAssignment.objects.get().valid_to == evening
    assert company.addon_subscriptions.get().ends_on == date(2026, 5, 4)


def test_assigning_the_same_agents_again_writes_nothing():
    company = vip_company()
    agent = AgentFactory()
    services.company_assign_agents(company=company, dedicated=agent)

    services.company_assign_agents(company=company, dedicated=agent)

    assert DedicatedAssignment.objects.count() == 1


def test_dropping_the_backup_closes_its_row():
    company = vip_company()
    agent, senior = AgentFactory(), SeniorFactory()
    services.company_assign_agents(company=company, dedicated=agent, backup=senior)

    services.company_assign_agents(company=company, dedicated=agent)

    assert current(company) == {AssignmentRole.DEDICATED: agent}


def test_ending_the_addon_closes_the_assignments():
    company = vip_company()
    services.company_assign_agents(company=company, dedicated=AgentFactory())

    services.addon_end(subscription=company.addon_subscriptions.get())

    assert current(company) == {}


def test_the_database_refuses_two_current_dedicated_agents():
    company = vip_company()
    since = datetime(2026, 3, 2, 10, tzinfo=UTC)
    DedicatedAssignment.objects.create(
        company=company, agent=AgentFactory(), role=AssignmentRole.DEDICATED, valid_from=since
    )

    with pytest.raises(IntegrityError, match="one_current_assignment_per_company_role"):
        DedicatedAssignment.objects.create(
            company=company, agent=AgentFactory(), role=AssignmentRole.DEDICATED, valid_from=since
        )
