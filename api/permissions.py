"""Who may call what: the same roles as the pages (`accounts.permissions`)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import MANAGING_ROLES, STAFF_ROLES


def _role(request: Request) -> str | None:
    return getattr(request.user, "role", None)


class IsCustomer(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return _role(request) == Role.CUSTOMER and request.user.company_id is not None  # type: ignore[union-attr]


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return _role(request) in STAFF_ROLES


class IsCustomerOrStaff(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return IsCustomer().has_permission(request, view) or _role(request) in STAFF_ROLES


class IsManaging(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return _role(request) in MANAGING_ROLES
