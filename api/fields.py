"""Field types every API shape shares."""

from __future__ import annotations

import datetime
from typing import Any

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
