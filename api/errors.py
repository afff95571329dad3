"""Every API error in one JSON shape:

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"severity": ["…"]}}}

`fields` appears when input was wrong, naming each field with its messages; a conflict adds what
the client can do instead (a taken slot: `alternatives`). Services raise Django's
ValidationError; it becomes a 400 here, exactly as the pages show it beside the form.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    """The request was fine but the world changed (a slot was taken): 409, with `extra`."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.extra = extra or {}


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        fields = {
            (NON_FIELD if name == "__all__" else name): messages
            for name, messages in error.message_dict.items()
        }
        return exceptions.ValidationError(fields)
    return exceptions.ValidationError({NON_FIELD: error.messages})


def error_body(
    *, status_code: int, code: str, message: str, **extra: Any
) -> dict[str, dict[str, Any]]:
    return {"error": {"status": status_code, "code": code, "message": message, **extra}}


def exception_handler(error: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(error, DjangoValidationError):
        error = from_django(error)
    elif isinstance(error, Http404):
        error = exceptions.NotFound()
    elif isinstance(error, DjangoPermissionDenied):
        error = exceptions.PermissionDenied()
    if not isinstance(error, exceptions.APIException):
        return None  # not an API error: a real fault, which Django reports
    response = drf_exception_handler(error, context)
    assert response is not None
    extra: dict[str, Any] = {}
    if isinstance(error, exceptions.ValidationError):
        detail = _plain(error.detail)
        if isinstance(detail, list):
            detail = {NON_FIELD: detail}
        extra["fields"] = detail
        message = " ".join(detail.get(NON_FIELD, [])) or _("Check the fields and try again.")
        code = "invalid"
    else:
        message = str(error.detail)
        codes = error.get_codes()
        code = codes if isinstance(codes, str) else error.default_code
    wait = getattr(error, "wait", None)  # Throttled's, in seconds
    if isinstance(error, exceptions.Throttled) and wait is not None:
        extra["retry_after"] = int(wait + 0.999)
    if isinstance(error, Conflict):
        extra.update(error.extra)
    response.data = error_body(
        status_code=response.status_code, code=str(code), message=message, **extra
    )
    return response


@csrf_exempt  # nothing here to protect, and a POST to a wrong address deserves the JSON 404
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that names nothing: a 404 in the API's shape, not a page."""
    return JsonResponse(
        error_body(status_code=404, code="not_found", message=_("Nothing lives at this address.")),
        status=404,
    )
