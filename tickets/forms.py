"""Forms parse and validate input; the services make the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tickets.attachments import MultipleFileField
from tickets.models import Severity, Status, text_length_validator
from vipsupport.fields import IdChoiceField, IdMultipleChoiceField


def attachments_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Up to 5 files, 10 MB each: images, PDF, Office documents, text."),
    )


class TicketForm(forms.Form):
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
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how severe the problem is."),
            "invalid_choice": _("Choose a severity from 1 to 5."),
        },
    )
    attachments = attachments_field()
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
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
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
    )

    def __init__(self, *args: Any, agents: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents  # type: ignore[attr-defined]
