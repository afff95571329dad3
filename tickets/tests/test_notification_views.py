import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, UserFactory
from tickets import services
from tickets.context_processors import notification_bell
from tickets.models import Notification, NotificationKind
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 30, 8, tzinfo=UTC)
LIST = "/notifications/"
_keys = itertools.count()


@pytest.fixture(autouse=True)
def _at_the_notifications_time():
    """Notices are dated `AT`; users log in and read them then (a session begun on another day
    could have expired by the time a test travels on)."""
    with time_machine.travel(AT, tick=True):
        yield


def notify(recipient, *, ticket=None, kind=NotificationKind.ASSIGNMENT, at=AT, read=False):
    ticket = ticket or make_ticket(at=at)
    key = f"test:{next(_keys)}"
    services.notifications_create(
        recipient_ids=[recipient.pk], kind=kind, ticket_id=ticket.pk, subject_key=key, at=at
    )
    notification = Notification.objects.get(recipient=recipient, subject_key=key)
    if read:
        Notification.objects.filter(pk=notification.pk).update(read_at=at)
        notification.refresh_from_db()
    return notification


def read_url(notification):
    return f"/notifications/{notification.pk}/read/"


def bell_count(page):
    match = re.search(r'data-testid="bell-count">([^<]*)<', page)
    return match.group(1) if match else None


def manager():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def admin():
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def agent():
    return AgentFactory(time_zone="Europe/Sofia")


@pytest.fixture
def ticket():
    return make_ticket(at=AT, subject="Printer on fire")


def test_the_bell_counts_only_unread_notifications(client_for, agent, ticket):
    notify(agent, ticket=ticket, kind=NotificationKind.SLA_WARNING)
    notify(agent, ticket=ticket, kind=NotificationKind.SLA_BREACH)
    notify(agent, ticket=ticket, kind=NotificationKind.ESCALATION, read=True)

    page = client_for(agent).get(LIST).text

    assert 'id="notification-bell"' in page
    assert 'aria-label="Notifications, 2 unread"' in page
    assert bell_count(page) == "2"


def test_the_bell_has_no_badge_when_everything_is_read(client_for, agent):
    notify(agent, read=True)

    page = client_for(agent).get(LIST).text

    assert 'aria-label="Notifications"' in page
    assert bell_count(page) is None
    assert "Mark all as read" not in page


@pytest.mark.parametrize("make_user", [SeniorFactory, manager, admin])
def test_every_staff_role_has_the_bell(client_for, make_user):
    user = make_user()
    notify(user)

    response = client_for(user).get(LIST)

    assert response.status_code == 200
    assert bell_count(response.text) == "1"


def test_customers_see_no_bell(client_for):
    customer = CustomerFactory()
    notify(customer)  # Customers are never sent any; even if one existed, no bell shows it.

    response = client_for(customer).get("/")

    assert response.status_code == 200
    assert 'id="notification-bell"' not in response.text
    assert response.context["unread_notifications"] is None


def test_the_bell_costs_one_query(rf, agent, django_assert_num_queries):
    request = rf.get("/")
    request.user = agent
    assert agent.role is not None  # The navigation context processor has worked it out already.

    with django_assert_num_queries(1):
        assert notification_bell(request) == {"unread_notifications": 0}


def test_the_list_shows_only_the_users_own_notifications(client_for, agent, ticket):
    other = AgentFactory()
    mine = notify(agent, ticket=ticket, kind=NotificationKind.SLA_BREACH)
    theirs = notify(other, ticket=make_ticket(at=AT, subject="Someone else's ticket"))

    page = client_for(agent).get(LIST).text

    assert page.count('data-testid="notification"') == 1
    assert f'id="notification-{mine.pk}"' in page
    assert f'id="notification-{theirs.pk}"' not in page
    assert "Someone else&#x27;s ticket" not in page
    assert "SLA breach" in page
    assert f'href="/queue/tickets/{ticket.pk}/">#{ticket.pk} Printer on fire</a>' in page
    assert ticket.company.name in page


def test_unread_rows_are_marked_and_carry_a_mark_read_form(client_for, agent):
    unread = notify(agent)
    read = notify(agent, read=True)

    page = client_for(agent).get(LIST).text

    assert re.search(rf'<tr id="notification-{unread.pk}" class="notification unread"', page)
    assert re.search(rf'<tr id="notification-{read.pk}" class="notification"', page)
    assert f'action="{read_url(unread)}"' in page
    assert f'action="{read_url(read)}"' not in page


def test_the_unread_filter_hides_read_notifications(client_for, agent):
    unread = notify(agent)
    read = notify(agent, read=True)

    page = client_for(agent).get(LIST, {"unread": "1"}).text

    assert f'id="notification-{unread.pk}"' in page
    assert f'id="notification-{read.pk}"' not in page


def test_times_are_shown_in_the_viewers_zone_with_the_zone_named(client_for, agent):
    notify(agent, at=AT)

    page = client_for(agent).get(LIST).text

    assert "Time (Europe/Sofia)" in page
    assert "Mon 30 Nov 2026, 10:00" in page  # 08:00 UTC is 10:00 in Sofia in winter.


def test_the_list_is_paginated_newest_first(client_for, agent, ticket):
    for minutes in range(51):
        notify(agent, ticket=ticket, at=AT + timedelta(minutes=minutes))

    first = client_for(agent).get(LIST).text
    second = client_for(agent).get(LIST, {"page": 2}).text

    assert first.count('data-testid="notification"') == 50
    assert "Mon 30 Nov 2026, 10:50" in first
    assert second.count('data-testid="notification"') == 1
    assert "Mon 30 Nov 2026, 10:00" in second
    assert "Page 2 of 2" in second


def test_the_lists_query_count_does_not_grow_with_its_rows(
    client_for, agent, django_assert_max_num_queries
):
    for _ in range(3):
        notify(agent, kind=NotificationKind.SLA_WARNING)
    client = client_for(agent)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(27):
        notify(agent, kind=NotificationKind.SLA_BREACH)

    with django_assert_max_num_queries(len(few)):
        response = client.get(LIST)

    assert response.text.count('data-testid="notification"') == 30


def test_mark_read_sets_the_time_once(client_for, agent):
    notification = notify(agent)
    client = client_for(agent)

    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        response = client.post(read_url(notification))
    with time_machine.travel(AT + timedelta(hours=2), tick=False):
        again = client.post(read_url(notification))

    assert response.status_code == again.status_code == 302
    assert response["Location"] == LIST
    notification.refresh_from_db()
    assert notification.read_at == AT + timedelta(hours=1)


def test_marking_someone_elses_notification_is_a_404_and_changes_nothing(client_for, agent):
    theirs = notify(AgentFactory())

    response = client_for(agent).post(read_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_a_notification_that_does_not_exist_is_refused(agent):
    with pytest.raises(Notification.DoesNotExist):
        services.notification_mark_read(user=agent, notification_id=999_999)


def test_mark_read_takes_post_only(client_for, agent):
    notification = notify(agent)

    assert client_for(agent).get(read_url(notification)).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_returns_to_a_safe_next_url_only(client_for, agent):
    first, second = notify(agent), notify(agent)
    client = client_for(agent)

    kept = client.post(read_url(first), {"next": "/notifications/?page=2"})
    refused = client.post(read_url(second), {"next": "https://evil.example/"})

    assert kept["Location"] == "/notifications/?page=2"
    assert refused["Location"] == LIST


def test_mark_read_over_htmx_returns_the_row_and_the_new_bell(client_for, agent):
    notification = notify(agent)
    notify(agent)

    response = client_for(agent).post(read_url(notification), headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = response.text
    assert page.lstrip().startswith(f'<tr id="notification-{notification.pk}" class="notification"')
    assert "Mark read" not in page
    assert 'hx-swap-oob="true"' in page
    assert bell_count(page) == "1"


def test_mark_all_read_marks_only_the_users_own(client_for, agent):
    notify(agent)
    notify(agent)
    already = notify(agent, read=True)
    theirs = notify(AgentFactory())

    response = client_for(agent).post("/notifications/read-all/", follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "2 notifications marked as read." in response.text
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=already.pk).read_at == AT
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert bell_count(response.text) is None


def test_mark_all_read_over_htmx_returns_the_bell(client_for, agent):
    notify(agent)

    response = client_for(agent).post("/notifications/read-all/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'id="notification-bell"' in response.text
    assert bell_count(response.text) is None


@pytest.mark.parametrize("method", ["get_list", "post_read", "post_read_all"])
def test_customers_are_refused(client_for, method):
    customer = CustomerFactory()
    notification = notify(customer)
    client = client_for(customer)

    response = {
        "get_list": lambda: client.get(LIST),
        "post_read": lambda: client.post(read_url(notification)),
        "post_read_all": lambda: client.post("/notifications/read-all/"),
    }[method]()

    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/notifications/"
