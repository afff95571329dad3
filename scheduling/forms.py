"""Every form of the scheduling pages: they parse input; the services make the rules.

The customer's booking pages, the agent's call page and the agent's availability page.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from accounts.models import User
from scheduling.models import BookingStatus, CallType
from scheduling.services import availability
from scheduling.services.bookings import NOT_A_NUMBER
from tickets.models import Ticket
from vipsupport.fields import IdChoiceField
from vipsupport.widgets import ManyOptionsSelect

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
        widget=ManyOptionsSelect,  # every open ticket of the company
        empty_label=_("No ticket"),
        error_messages={"invalid_choice": _("Pick one of your company's open tickets.")},
    )
    phone_number = PhoneNumberField(
        label=_("Number we should call"),
        max_length=40,
        # Text, styled as the other fields; phones still offer their number pad.
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("Your agent phones you on this number at the time of the call."),
        error_messages={
            "required": _("Give the number your agent should call."),
            "invalid": NOT_A_NUMBER,
        },
    )

    def __init__(
        self,
        *args: Any,
        agents: QuerySet[User],
        tickets: QuerySet[Ticket],
        call_type: CallType,
        usual_number: str = "",
        **kwargs: Any,
    ) -> None:
        """`usual_number`: the customer's own number, offered as the number to call; a post
        without the field (a client that does not know it) means that number too. A call type
        with a video link asks for no number."""
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents  # type: ignore[attr-defined]
        self.fields["ticket"].queryset = tickets  # type: ignore[attr-defined]
        if call_type.video_url:
            del self.fields["phone_number"]
            return
        self.fields["phone_number"].initial = usual_number
        name = self.add_prefix("phone_number")
        if self.is_bound and name not in self.data and usual_number:
            data = QueryDict(mutable=True)
            data.update(self.data)
            data[name] = usual_number
            self.data = data


class RescheduleForm(forms.Form):
    start = InstantField()


class CustomerCancelForm(forms.Form):
    """The customer cancels their own call, with an optional word to the agent."""

    message = forms.CharField(
        label=_("Message to your agent (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )


# ---------------------------------------------------------------------------- the agent's call


class NotesForm(forms.Form):
    agent_notes = forms.CharField(
        label=_("Your notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only you and the managers see them."),
    )


class AgentCancelForm(forms.Form):
    """The agent (or a manager) cancels a call, telling the customer why."""

    # Not required here: the service says what is missing, in its own words.
    cancel_message = forms.CharField(
        label=_("Message to the customer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class MarkForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (BookingStatus.COMPLETED.value, BookingStatus.COMPLETED.label),
            (BookingStatus.NO_SHOW.value, BookingStatus.NO_SHOW.label),
        ],
    )


# ---------------------------------------------------------------------------- availability

_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ZonedDateTimeField(forms.DateTimeField):
    """A wall-clock date and time read in a given zone (the agent's schedule's), not the
    request's; times that do not exist or occur twice there are refused."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_LOCAL)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo("UTC")

    def to_python(self, value: Any) -> Any:
        with timezone.override(self.zone):
            return super().to_python(value)


def _when_field(label: Promise, required: Promise) -> ZonedDateTimeField:
    return ZonedDateTimeField(
        label=label,
        error_messages={
            "required": required,
            "invalid": _("Enter a date and time, e.g. 2026-12-24 09:00."),
        },
    )


class TimeOffForm(forms.Form):
    starts_at = _when_field(_("From"), _("Say when your time off starts."))
    ends_at = _when_field(_("Until"), _("Say when your time off ends."))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Optional; customers do not see it."),
    )

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        kwargs["prefix"] = "off"
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].zone = zone  # type: ignore[attr-defined]


class FeedUrlForm(forms.Form):
    url = forms.CharField(
        label=_("Calendar address"),
        max_length=2000,
        help_text=_(
            "The secret iCalendar address of your calendar (https:// or webcal://); it is "
            "read every 15 minutes."
        ),
        error_messages={"required": _("Give the calendar's address.")},
        widget=forms.URLInput(attrs={"placeholder": "https://…/basic.ics"}),
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = "url"
        super().__init__(*args, **kwargs)


class FeedUploadForm(forms.Form):
    uploaded_ics = forms.FileField(
        label=_(".ics file"),
        help_text=_("A calendar exported as iCalendar (.ics); it is not updated."),
        error_messages={
            "required": _("Choose an .ics file to upload."),
            "empty": _("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = "upload"
        super().__init__(*args, **kwargs)

    def clean_uploaded_ics(self) -> str:
        """The file's text; the service checks that it is a calendar."""
        upload = self.cleaned_data["uploaded_ics"]
        limit = availability.MAX_BUSY_FEED_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                gettext("The file is larger than %(size)s.") % {"size": filesizeformat(limit)}
            )
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise ValidationError(
                gettext("This is not an iCalendar (.ics) file: it is not UTF-8 text.")
            ) from error
