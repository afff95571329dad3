"""The OpenAPI schema's shared parts: the error shape on every operation."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Each wrong field with its messages.",
                },
                "retry_after": {"type": "integer", "description": "Seconds (429 only)."},
                "alternatives": {
                    "type": "array",
                    "items": {"type": "string", "format": "date-time"},
                    "description": "Free start times near the one asked for (409 only).",
                },
            },
        }
    },
}

ERROR_RESPONSES = {
    "400": "The input is wrong; `fields` says what to fix.",
    "401": "No credentials, or a token that is unknown, revoked or expired.",
    "403": "Your role may not do this.",
    "404": "No such thing, or not yours.",
    "405": "This address does not take this method.",
    "406": "Ask for application/json.",
    "415": "Send application/json.",
    "429": "Too many requests; wait `retry_after` seconds.",
}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the Error component, answered by every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            responses = operation.setdefault("responses", {})
            errors = dict(ERROR_RESPONSES)
            if method != "get":
                errors["409"] = "The request came too late (a slot was taken): see the message."
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


def view_name(view: Any) -> str:
    """The browsable API's page title: "Ticket List", not the class's "Ticket List Api"."""
    from rest_framework.views import get_view_name

    return get_view_name(view).removesuffix(" Api")
