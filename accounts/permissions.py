"""View decorators that admit only some roles."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from accounts.models import Role

View = Callable[..., HttpResponseBase]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Anonymous users go to the login page; logged-in users with another role get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if getattr(request.user, "role", None) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


STAFF_ROLES = (Role.AGENT, Role.SENIOR, Role.MANAGER, Role.ADMIN)
# Those who see every agent's calls and reports, not only their own.
MANAGING_ROLES = (Role.MANAGER, Role.ADMIN)
# Agents, seniors, managers and admins: everyone who works the desk.
staff_only = role_required(*STAFF_ROLES)
# Members of a customer company.
customer_only = role_required(Role.CUSTOMER)
