import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import services
from accounts.models import MANAGERS_GROUP, AddOnSubscription, DedicatedAssignment
from accounts.tests.factories import (
    AgentFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
    all_inclusive,
    dedicated_addon,
    vip_company,
)
from audit.selectors import AuditFilters, audit_entries

pytestmark = pytest.mark.django_db

URL = "/reports/audit/"
SOFIA = ZoneInfo("Europe/Sofia")


def at(day: int, hour: int = 10) -> datetime.datetime:
    """An instant in March 2027, Sofia time."""
    return datetime.datetime(2027, 3, day, hour, 0, tzinfo=SOFIA)


def rows(page: str) -> str:
    """The log table alone, so filter options elsewhere on the page never match by accident."""
    start = page.index('data-testid="audit-log"')
    return page[start : page.index("</table>", start)]


@pytest.fixture
def admin_user():
    return UserFactory(
        email="root@support.example",
        first_name="Ada",
        last_name="Admin",
        is_superuser=True,
        is_staff=True,
    )


@pytest.fixture
def manager_user():
    user = UserFactory(
        email="boss@support.example",
        first_name="Elena",
        last_name="Dimitrova",
        time_zone="Europe/Sofia",
    )
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


@pytest.fixture
def acme():
    return vip_company(name="Acme Ltd")


@pytest.fixture
def maria():
    return AgentFactory(first_name="Maria", last_name="Ivanova", email="maria@support.example")


@pytest.fixture
def ivan():
    return AgentFactory(first_name="Ivan", last_name="Petrov", email="ivan@support.example")


def test_a_change_posted_on_the_admin_site_shows_with_who_and_what(
    client, admin_user, manager_user
):
    addon = dedicated_addon()
    with time_machine.travel(at(3, 11), tick=False):
        client.force_login(admin_user)  # in the travel, or the session has expired there
        response = client.post(
            reverse("admin:accounts_addon_change", args=[addon.pk]),
            {
                "code": addon.code,
                "name": "Named agent",
                "monthly_price": "1000.00",
                "currency": "EUR",
            },
        )
    assert response.status_code == 302

    client.force_login(manager_user)
    page = client.get(URL).text

    table = rows(page)
    assert "Ada Admin" in table
    assert "root@support.example" in table
    assert "Named agent" in table  # the object
    assert "Changed Name." in table
    assert "3 Mar 2027 11:00" in table  # in the viewer's zone, which the page names
    assert "Europe/Sofia" in page


def test_the_admins_assign_action_is_logged_once_with_old_and_new_agents(
    client, admin_user, manager_user, acme, maria, ivan
):
    services.company_assign_agents(company=acme, dedicated=maria, now=at(1))
    with time_machine.travel(at(2), tick=False):
        client.force_login(admin_user)  # in the travel, or the session has expired there
        client.post(
            reverse("admin:accounts_company_changelist"),
            {
                "action": "assign_agents",
                ACTION_CHECKBOX_NAME: [acme.pk],
                "apply": "1",
                "dedicated": ivan.pk,
            },
        )

    # The admin's own history has it too, on the assignment row the action made.
    entry = LogEntry.objects.get()
    assert entry.user == admin_user
    assert entry.object_id == str(DedicatedAssignment.objects.get(agent=ivan).pk)
    assert entry.change_message == "Dedicated agent: Maria Ivanova → Ivan Petrov"
    client.force_login(manager_user)
    table = rows(client.get(URL).text)
    assert table.count("Dedicated agent: Maria Ivanova → Ivan Petrov") == 1
    assert table.count("Dedicated agent: — → Maria Ivanova") == 1
    assert "root@support.example" in table


def test_an_assignment_change_through_the_service_shows(client, manager_user, acme, maria, ivan):
    senior = SeniorFactory(first_name="Georgi", last_name="Petrov")
    services.company_assign_agents(company=acme, dedicated=maria, backup=senior, now=at(1))
    services.company_assign_agents(
        company=acme, dedicated=ivan, assigned_by=manager_user, now=at(2)
    )

    client.force_login(manager_user)
    table = rows(client.get(URL).text)

    assert "Dedicated agent: Maria Ivanova → Ivan Petrov" in table
    assert "Backup agent: Georgi Petrov → —" in table  # removed, by the same hand
    assert table.count("boss@support.example") == 2
    assert "The system" in table  # the first assignment had nobody's name on it
    assert table.index("Maria Ivanova → Ivan Petrov") < table.index("— → Maria Ivanova")


def test_ending_the_addon_in_the_admin_ends_the_assignments_in_the_admins_name(
    client, admin_user, manager_user, acme, maria
):
    services.company_assign_agents(company=acme, dedicated=maria, now=at(1))
    subscription = AddOnSubscription.objects.get(company=acme)
    with time_machine.travel(at(4), tick=False):
        client.force_login(admin_user)  # in the travel, or the session has expired there
        response = client.post(
            reverse("admin:accounts_addonsubscription_change", args=[subscription.pk]),
            {"ends_on": "2027-03-04"},
        )
    assert response.status_code == 302

    client.force_login(manager_user)
    table = rows(client.get(URL).text)
    assert "Dedicated agent: Maria Ivanova → —" in table
    assert "Ended" in table
    assert "Changed Ends on." in table
    assert table.count("root@support.example") == 2


@pytest.mark.parametrize("make_user", [AgentFactory, CustomerFactory])
def test_agents_and_customers_are_refused(client, make_user):
    client.force_login(make_user())

    assert client.get(URL).status_code == 403


def test_the_managers_navigation_links_it(client, manager_user):
    client.force_login(manager_user)

    assert f'href="{URL}"' in client.get("/reports/").text


class TestFilters:
    @pytest.fixture
    def log(self, admin_user, manager_user, acme, maria, ivan):
        services.company_assign_agents(
            company=acme, dedicated=maria, assigned_by=manager_user, now=at(1)
        )
        with time_machine.travel(at(5), tick=False):
            LogEntry.objects.log_actions(
                user_id=admin_user.pk,
                queryset=[all_inclusive()],
                action_flag=1,
                change_message="Made the plan",
            )
        services.company_assign_agents(
            company=acme, dedicated=ivan, assigned_by=admin_user, now=at(9)
        )

    def test_by_who(self, client, log, manager_user, admin_user):
        client.force_login(manager_user)
        table = rows(client.get(URL, {"who": admin_user.pk}).text)

        assert "Made the plan" in table
        assert "Maria Ivanova → Ivan Petrov" in table
        assert "— → Maria Ivanova" not in table

    def test_by_kind_of_object(self, client, log, manager_user):
        client.force_login(manager_user)
        plans = rows(client.get(URL, {"kind": "accounts.plan"}).text)
        assignments = rows(client.get(URL, {"kind": "accounts.dedicatedassignment"}).text)

        assert "Made the plan" in plans
        assert "Maria" not in plans
        assert "Made the plan" not in assignments
        assert "— → Maria Ivanova" in assignments

    def test_by_days_in_the_viewers_zone(self, client, log, manager_user):
        client.force_login(manager_user)
        table = rows(client.get(URL, {"first": "2027-03-02", "last": "2027-03-05"}).text)

        assert "Made the plan" in table
        assert "Maria" not in table

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"first": "2027-02-30"}, "Enter the first day as YYYY-MM-DD."),
            ({"last": "yesterday"}, "Enter the last day as YYYY-MM-DD."),
            ({"first": "2027-03-05", "last": "2027-03-01"}, "The last day must not be before"),
            ({"who": "99999999"}, "There is no such person."),
            ({"who": "١٢"}, "There is no such person."),
            ({"kind": "auth.nothing"}, "Choose a kind of object from the list."),
            ({"after": "not-a-cursor"}, "This page link is broken"),
        ],
    )
    def test_bad_input_is_a_400_with_the_message_and_the_input_kept(
        self, client, manager_user, query, message
    ):
        client.force_login(manager_user)
        response = client.get(URL, query)

        assert response.status_code == 400
        assert message in response.text
        if "first" in query:
            assert f'value="{query["first"]}"' in response.text
        if "last" in query:
            assert f'value="{query["last"]}"' in response.text


def test_pages_walk_every_entry_once_in_order_even_at_one_instant(acme, maria, ivan, admin_user):
    senior = SeniorFactory()
    services.company_assign_agents(company=acme, dedicated=maria, backup=senior, now=at(1))
    # Both roles change at one instant: the backup is removed (an "ended" row) as Ivan arrives.
    services.company_assign_agents(company=acme, dedicated=ivan, assigned_by=admin_user, now=at(2))
    with time_machine.travel(at(2), tick=False):
        for _ in range(3):
            LogEntry.objects.log_actions(
                user_id=admin_user.pk, queryset=[acme], action_flag=2, change_message="x"
            )

    seen, after = [], None
    while True:
        entries, after = audit_entries(filters=AuditFilters(), after=after, limit=2)
        seen.extend(entries)
        if after is None:
            break

    everything, _ = audit_entries(filters=AuditFilters(), limit=100)
    assert len(seen) == len(everything) == 7
    assert [entry.cursor for entry in seen] == [entry.cursor for entry in everything]
    assert len({entry.cursor for entry in seen}) == 7
    assert [entry.at for entry in seen] == sorted((entry.at for entry in seen), reverse=True)


def test_query_count_does_not_grow_with_the_log(
    client, manager_user, admin_user, acme, maria, ivan, django_assert_max_num_queries
):
    # Every source on the first pages already: an assignment replacing one, one ended, the admin.
    services.company_assign_agents(
        company=acme, dedicated=maria, backup=SeniorFactory(), assigned_by=admin_user, now=at(1)
    )
    services.company_assign_agents(
        company=acme, dedicated=ivan, assigned_by=admin_user, now=at(1, 12)
    )
    LogEntry.objects.log_actions(
        user_id=admin_user.pk, queryset=[acme], action_flag=2, change_message="x"
    )
    client.force_login(manager_user)
    with django_assert_max_num_queries(30) as few:
        client.get(URL, {"who": admin_user.pk})
        client.get(URL)

    for day in range(2, 20):
        agent = ivan if day % 2 else maria
        services.company_assign_agents(
            company=acme,
            dedicated=agent,
            backup=SeniorFactory(),
            assigned_by=admin_user,
            now=at(day),
        )
        LogEntry.objects.log_actions(
            user_id=UserFactory(is_staff=True).pk,
            queryset=[acme],
            action_flag=2,
            change_message="x",
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL, {"who": admin_user.pk})
        client.get(URL)
