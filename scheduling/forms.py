"""Forms of the customer's booking pages: they parse input; the booking services make the rules."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tickets.models import Ticket
from vipsupport.fields import IdChoiceField

UTC = datetime.UTC


def instant_param(moment: datetime.datetime) -> str:
    """The ISO 8601 UTC form of an instant that slot buttons and links carry, e.g.
    2026-12-01T09:00:00Z (no "+", so it survives a query string unencoded)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: str) -> datetime.datetime:
    """An ISO 8601 instant with its offset, as UTC; ValidationError for anything else."""
    not_understood = ValidationError(
        _("That is not a time we understand; please pick one of the offered times."),
        code="invalid",
    )
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise not_understood from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            _("The time must say which time zone it is in; please pick one of the offered times."),
            code="naive",
        )
    # Year 1 and 9999 leave no room for the days of margin a calendar is loaded with.
    if not datetime.MINYEAR < moment.year < datetime.MAXYEAR:
        raise not_understood
    return moment.astimezone(UTC)


class InstantField(forms.CharField):
    """An ISO 8601 instant with an offset (2026-12-01T09:00:00Z), cleaned to an aware UTC time."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": _("Pick one of the offered times.")})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime.datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        return parse_instant(text) if text else None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return instant_param(value)
        return value


class BookingForm(forms.Form):
    start = InstantField()
    agent = IdChoiceField(
        queryset=User.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Pick one of the offered times."),
            "invalid_choice": _("Pick one of the offered times; they show who the call is with."),
        },
    )
    topic = forms.CharField(
        label=_("Topic"),
        max_length=200,
        help_text=_("What would you like to talk about? Your agent prepares for it."),
        error_messages={"required": _("Tell your agent what the call is about.")},
    )
    ticket = IdChoiceField(
        label=_("About a ticket (optional)"),
        queryset=Ticket.objects.none(),
        required=False,
        empty_label=_("No ticket"),
        error_messages={"invalid_choice": _("Pick one of your company's open tickets.")},
    )

    def __init__(
        self, *args: Any, agents: QuerySet[User], tickets: QuerySet[Ticket], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents  # type: ignore[attr-defined]
        self.fields["ticket"].queryset = tickets  # type: ignore[attr-defined]


class RescheduleForm(forms.Form):
    start = InstantField()


class CancelForm(forms.Form):
    message = forms.CharField(
        label=_("Message to your agent (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
