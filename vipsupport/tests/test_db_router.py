"""The replica router's rules, without a replica (test_replica.py runs them against one)."""

from typing import Any

import pytest
from django.db import router
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accounts.models import User
from accounts.tests.factories import UserFactory
from vipsupport.db_router import AfterWriteMiddleware, ReplicaRouter, read_replica

# The rules read settings.DATABASES; no query goes to the alias, so no connection is made.
with_replica = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def replica(settings: Any) -> None:
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}


def _get(user: User | None = None, method: str = "get") -> HttpRequest:
    request = getattr(RequestFactory(), method)("/reports/sla/")
    if user is not None:
        request.user = user
    return request


def test_without_a_replica_the_context_reads_the_primary():
    with read_replica(_get()) as alias:
        assert alias == "default"
        assert ReplicaRouter().db_for_read(User) == "default"


@with_replica
@pytest.mark.django_db
def test_reads_go_to_the_replica_only_inside_the_context(replica):
    ours = ReplicaRouter()
    user = UserFactory()

    with read_replica(_get(user)) as alias:
        assert alias == "replica"
        assert ours.db_for_read(User) == "replica"
        # Writes never go there, not even for a row read there.
        assert ours.db_for_write(User, instance=user) == "default"

    assert ours.db_for_read(User) == "default"
    assert ours.allow_migrate("default", "accounts") is True
    assert ours.allow_migrate("replica", "accounts") is False
    with read_replica(_get(user, method="post")) as alias:
        assert alias == "default"


@with_replica
@pytest.mark.django_db
def test_a_user_who_has_just_written_reads_the_primary(replica, settings):
    settings.DATABASE_ROUTERS = ["vipsupport.db_router.ReplicaRouter"]
    writer, poster, reader = UserFactory(), UserFactory(), UserFactory()

    def view(request: HttpRequest) -> HttpResponse:
        if request.user == writer:
            # Any write the router places marks the request, a GET's too.
            router.db_for_write(User, instance=writer)
        return HttpResponse()

    for user in (writer, reader):
        AfterWriteMiddleware(view)(_get(user))
    # A POST counts as a write even when nothing went through the router (raw SQL).
    AfterWriteMiddleware(view)(_get(poster, method="post"))

    for user in (writer, poster):
        with read_replica(_get(user)) as alias:
            assert alias == "default"
    with read_replica(_get(reader)) as alias:
        assert alias == "replica"
