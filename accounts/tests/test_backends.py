"""The sign-in backend loads a signed-in user with what every page reads of them."""

import pytest
from django.contrib.auth.models import Group

from accounts.backends import UserBackend
from accounts.models import MANAGERS_GROUP, Role
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("make", "role"),
    [(CustomerFactory, Role.CUSTOMER), (AgentFactory, Role.AGENT), (SeniorFactory, Role.SENIOR)],
)
def test_a_user_and_their_role_take_two_queries(make, role, django_assert_num_queries):
    user = make()

    with django_assert_num_queries(2):  # the user with their agent profile; their groups
        loaded = UserBackend().get_user(user.pk)
        assert loaded is not None
        assert loaded.role == role
        assert loaded.has_agent_profile == (role != Role.CUSTOMER)


def test_a_manager_s_groups_come_with_them(django_assert_num_queries):
    manager = CustomerFactory(company=None)
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))

    with django_assert_num_queries(2):
        assert UserBackend().get_user(manager.pk).role == Role.MANAGER


def test_an_inactive_or_missing_user_is_nobody():
    user = CustomerFactory(is_active=False)

    assert UserBackend().get_user(user.pk) is None
    assert UserBackend().get_user(user.pk + 1000) is None


def test_signing_in_through_the_page_uses_it(client):
    user = CustomerFactory()
    user.set_password("a long enough password")
    user.save()

    client.post("/accounts/login/", {"username": user.email, "password": "a long enough password"})

    assert client.session["_auth_user_backend"] == "accounts.backends.UserBackend"
