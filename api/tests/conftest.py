"""An API client that authenticates the way integrations do: a bearer token made on the profile
page's service."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_token_create

ApiClientFor = Callable[[User], APIClient]


@pytest.fixture
def api_client_for(db: None) -> ApiClientFor:
    def make(user: User) -> APIClient:
        _row, token = api_token_create(user=user, name="tests", lifetime_days=30)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make
