"""The audit log's filters: parsed and checked here, so bad values get a clear message."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.selectors import AuditFilters, audit_cursor_parse
from vipsupport.fields import IdChoiceField


def kind_choices() -> list[tuple[str, str]]:
    """Every kind of object the admin site edits (the assignment history among them)."""
    choices = [
        (
            f"{model._meta.app_label}.{model._meta.model_name}",
            f"{apps.get_app_config(model._meta.app_label).verbose_name}: "
            f"{model._meta.verbose_name_plural}",
        )
        for model in apps.get_models()
        if admin.site.is_registered(model)
    ]
    return sorted(choices, key=lambda choice: choice[1].casefold())


class AuditForm(forms.Form):
    who = IdChoiceField(
        label=_("Who"),
        queryset=User.objects.all(),
        required=False,
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("There is no such person.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind of object"),
        required=False,
        error_messages={"invalid_choice": _("Choose a kind of object from the list.")},
    )
    first = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter the first day as YYYY-MM-DD.")},
    )
    last = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter the last day as YYYY-MM-DD.")},
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("Everything")), *kind_choices()]

    def clean_after(self) -> Any:
        token = self.cleaned_data.get("after") or ""
        if not token:
            return None
        cursor = audit_cursor_parse(token=token)
        if cursor is None:
            raise forms.ValidationError(_("This page link is broken; start from the first page."))
        return cursor

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            self.add_error("last", _("The last day must not be before the first."))
        return data

    def filters(self) -> AuditFilters:
        """The filters, the days read in the viewer's zone: from the first day's midnight to the
        midnight after the last day."""
        data = self.cleaned_data
        first: datetime.date | None = data.get("first")
        last: datetime.date | None = data.get("last")
        return AuditFilters(
            who_id=data["who"].pk if data.get("who") else None,
            kind=data.get("kind") or None,
            since=datetime.datetime.combine(first, datetime.time(), self.zone) if first else None,
            until=(
                datetime.datetime.combine(
                    last + datetime.timedelta(days=1), datetime.time(), self.zone
                )
                if last
                else None
            ),
        )
