"""Forms parse and validate input; the services make the rules."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import User
from tickets.attachments import MultipleFileField
from tickets.models import Channel, Severity, Status, text_length_validator
from vipsupport.fields import IdChoiceField, IdMultipleChoiceField
from vipsupport.widgets import ManyOptionsSelect


def attachments_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Up to 5 files, 10 MB each: images, PDF, Office documents, text."),
    )


def severity_field(**kwargs: Any) -> forms.TypedChoiceField:
    """The severity 1 to 5 as the seed defines them, with the same messages on every form."""
    return forms.TypedChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        coerce=int,
        error_messages={
            "required": _("Choose how severe the problem is."),
            "invalid_choice": _("Choose a severity from 1 to 5."),
        },
        **kwargs,
    )


class TicketTextForm(forms.Form):
    """What every new ticket says: a subject, a description and files."""

    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={"required": _("Give the ticket a subject.")},
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown works: **bold**, lists, `code`, links."),
        # Not max_length: the browser would cut a long paste silently; the form says so instead.
        validators=[text_length_validator],
        error_messages={"required": _("Describe the problem, so we can start on it.")},
    )
    attachments = attachments_field()


class TicketForm(TicketTextForm):
    severity = severity_field(widget=forms.RadioSelect)
    cc = IdMultipleChoiceField(
        label=_("CC colleagues"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, colleagues: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cc"].queryset = colleagues  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 5}),
        validators=[text_length_validator],
        error_messages={"required": _("Write a reply before sending it.")},
    )
    attachments = attachments_field()


class StaffReplyForm(ReplyForm):
    KEEP = ""
    then = forms.TypedChoiceField(
        label=_("Then set the status to"),
        choices=[
            (KEEP, _("Keep it")),
            (Status.OPEN, Status.OPEN.label),
            (Status.WAITING, Status.WAITING.label),
            (Status.SOLVED, Status.SOLVED.label),
        ],
        required=False,
        empty_value=None,
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[text_length_validator],
        error_messages={"required": _("Write the note before saving it.")},
    )
    attachments = attachments_field()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Say why.")},
    )


class StatusForm(forms.Form):
    # "New" is listed so a new ticket's form shows its status rather than "Open" (choosing it
    # changes nothing; the service refuses to move any other ticket back to New).
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (Status.NEW, Status.NEW.label),
            (Status.OPEN, Status.OPEN.label),
            (Status.WAITING, Status.WAITING.label),
            (Status.SOLVED, Status.SOLVED.label),
            (Status.CLOSED, Status.CLOSED.label),
        ],
    )


class SeverityForm(ReasonForm):
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        coerce=int,
        error_messages={"invalid_choice": _("Choose a severity from 1 to 5.")},
    )


class AssignForm(forms.Form):
    assignee = IdChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        widget=ManyOptionsSelect,  # every active agent
    )

    def __init__(self, *args: Any, agents: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents  # type: ignore[attr-defined]


# Staff file tickets for what reached them another way; the web portal is the customers' own.
STAFF_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.CHAT)
# How far back a ticket may be dated: older requests are filed as received now.
MAX_BACKDATE = datetime.timedelta(days=7)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def received_at_check(received_at: datetime.datetime, *, now: datetime.datetime) -> None:
    """A staff-filed ticket's moment: not later than now, nor earlier than a week ago."""
    if received_at > now:
        raise forms.ValidationError(
            _("The request cannot have reached you in the future."), code="future"
        )
    if received_at < now - MAX_BACKDATE:
        raise forms.ValidationError(
            _("Tickets can be dated at most 7 days back; file older requests as received now."),
            code="too_old",
        )


def customers_active() -> QuerySet[User]:
    """The people a ticket can be filed for: active members of a customer company."""
    return User.objects.filter(
        is_active=True, company__isnull=False, agent_profile__isnull=True
    ).order_by("first_name", "last_name", "email")


def customer_choices() -> list[tuple[int, str]]:
    """The active customers as (id, "Name <email> · Company") pairs, in one query, for a long
    list (a `<select>` filled with the `options` tag)."""
    rows = customers_active().values_list("pk", "first_name", "last_name", "email", "company__name")
    choices = []
    for pk, first, last, email, company in rows:
        name = f"{first} {last}".strip()
        person = f"{name} <{email}>" if name else email
        choices.append((pk, f"{person} · {company}"))
    return choices


def customer_field(*, required: StrOrPromise) -> IdChoiceField:
    """An active customer, picked by id by a member of staff; `required` says what for."""
    return IdChoiceField(
        label=_("Customer"),
        queryset=customers_active(),
        error_messages={
            "required": required,
            "invalid_choice": _("Choose a customer from the list."),
        },
    )


class StaffTicketForm(TicketTextForm):
    """A ticket an agent files for a customer who phoned, wrote or chatted."""

    requester = customer_field(required=_("Choose the customer the ticket is for."))
    channel = forms.TypedChoiceField(
        label=_("Received by"),
        choices=[(channel.value, channel.label) for channel in STAFF_CHANNELS],
        coerce=Channel,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Say how the request reached you."),
            "invalid_choice": _("Choose phone, e-mail or chat."),
        },
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={
            "required": _("Say when the request reached you."),
            "invalid": _("Enter the date and time the request reached you."),
        },
    )
    severity = severity_field(initial=Severity.STANDARD)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form is made, not at import: the default is "now", to the minute.
        self.fields["received_at"].initial = timezone.now().replace(second=0, microsecond=0)

    def requester_choices(self) -> list[tuple[int, str]]:
        """The customers as (id, "Name <email> · Company") pairs, in one query, for a long list."""
        return customer_choices()

    def clean_received_at(self) -> datetime.datetime:
        """Not later than now, nor earlier than a week ago (entered in the viewer's own zone)."""
        received_at: datetime.datetime = self.cleaned_data["received_at"]
        received_at_check(received_at, now=timezone.now())
        return received_at


class CallbackForm(forms.Form):
    """A call back to the customer: reached them ("yes"), or tried and did not ("no", with a
    note on what happened; the service insists on it)."""

    REACHED = "yes"
    NOT_REACHED = "no"

    reached = forms.TypedChoiceField(
        label=_("Did you reach the customer?"),
        choices=[(REACHED, _("Reached")), (NOT_REACHED, _("Not reached"))],
        coerce=lambda value: value == CallbackForm.REACHED,
        error_messages={
            "required": _("Say whether you reached the customer."),
            "invalid_choice": _("Say whether you reached the customer."),
        },
    )
    note = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )
