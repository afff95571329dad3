"""The Redis cache with Redis out of reach: an empty cache that keeps nothing, never an error."""

import logging

import pytest
from django.core.cache import cache

from accounts.tests.factories import CustomerFactory, vip_company
from tickets.services import ticket_create
from vipsupport import cache as resilient
from vipsupport.local_servers import free_port


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a port nothing listens on, its warning due again."""
    settings.CACHES = {
        "default": {
            "BACKEND": "vipsupport.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    resilient._warned_at[0] = -resilient.WARN_EVERY_SECONDS


def test_with_redis_out_of_reach_reads_miss_and_writes_are_skipped(redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="vipsupport.cache"):
        assert cache.get("key", "default") == "default"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.has_key("key") is False
        assert cache.set("key", 1) is None
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert cache.add("key", 1) is False
        assert cache.touch("key") is False
        assert cache.delete("key") is False
        assert cache.delete_many(["a"]) is None
        assert cache.incr("counter", 3) == 3

    warnings = [record for record in caplog.records if record.name == "vipsupport.cache"]
    assert [record.getMessage() for record in warnings] == [
        "Redis is out of reach: the cache reads as empty for now"
    ]


@pytest.mark.django_db
def test_a_customer_opens_a_ticket_while_redis_is_out_of_reach(redis_down):
    customer = CustomerFactory(company=vip_company())

    ticket = ticket_create(
        requester=customer, subject="Export fails", description="Since today.", severity=2
    )

    assert ticket.sla_targets.get().due_at is not None


def test_errors_other_than_an_unreachable_redis_still_raise():
    cache.delete("resilient-cache-test")
    with pytest.raises(ValueError, match="not found"):
        cache.incr("resilient-cache-test")
