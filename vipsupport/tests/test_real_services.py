"""The suite must run on the production kind of services, never on the embedded fallbacks."""

import pytest
import redis
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    assert settings.SETTINGS_MODULE == "vipsupport.settings.test"
    assert connection.vendor == "postgresql"


def test_the_broker_is_a_live_redis():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
