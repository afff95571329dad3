"""Form fields that pick rows by id and refuse ids no row can have before asking the database."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from vipsupport.ids import parse_id


def _is_id(field: forms.ModelChoiceField[Any], value: Any) -> bool:
    """A row of the field's model, or a value that spells an id the database can hold."""
    model = field.queryset.model if field.queryset is not None else None
    return (model is not None and isinstance(value, model)) or parse_id(str(value)) is not None


class IdChoiceField(forms.ModelChoiceField[Any]):
    """A `ModelChoiceField` whose submitted id must be ASCII digits in 64-bit range."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _is_id(self, value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField[Any]):
    """A `ModelMultipleChoiceField` whose submitted ids must be ASCII digits in 64-bit range."""

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for pk in value:
                if not _is_id(self, pk):
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": str(pk)[:20]},
                    )
        return super().clean(value)
