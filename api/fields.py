"""Field types every API shape shares."""

from __future__ import annotations

import datetime
from typing import Any, overload

from django.db import models
from rest_framework import serializers


class UtcDateTimeField(serializers.DateTimeField):
    """An instant as ISO 8601 in UTC ("…Z"), whatever zone the request runs in (the caller's,
    for messages); input with an offset is read as that instant."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(**kwargs)


class ApiModelSerializer(serializers.ModelSerializer[Any]):
    """A ModelSerializer whose date-time columns come out in UTC."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }


@overload
def seconds(value: datetime.timedelta) -> int: ...
@overload
def seconds(value: datetime.timedelta | None) -> int | None: ...
def seconds(value: datetime.timedelta | None) -> int | None:
    """A duration as whole seconds, the API's unit for every duration."""
    return None if value is None else round(value.total_seconds())
