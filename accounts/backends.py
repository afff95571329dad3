"""The sign-in backend: Django's, loading a signed-in user with what every page asks of them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class UserBackend(ModelBackend):
    """`ModelBackend` whose user comes with their agent profile (one join) and their groups
    (one query), which the navigation reads on every page through `User.role`."""

    def get_user(self, user_id: Any) -> User | None:
        user = (
            User._default_manager.select_related("agent_profile")
            .prefetch_related("groups")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
