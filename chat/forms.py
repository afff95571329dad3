"""The chat's forms: the first message, a message with files, a message left out of hours, and
filing a chat on a ticket."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from chat.services import MAX_MESSAGE_LENGTH
from tickets.forms import attachments_field, severity_field
from tickets.models import Severity

MESSAGE_LABEL = _("Message")


def _message_field(*, required: bool, label: StrOrPromise = MESSAGE_LABEL) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Markdown works: **bold**, lists, `code`, links."),
        error_messages={
            "required": _("Write a message."),
            "max_length": _(
                "A chat message can be at most %(limit_value)d characters "
                "(this one has %(show_value)d)."
            ),
        },
    )


class MessageForm(forms.Form):
    """A message with or without files; the same form starts a chat."""

    body = _message_field(required=False)
    attachments = attachments_field()
    # The page's own id for the message, so a resend is not stored twice.
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_text = bool((cleaned.get("body") or "").strip())
        if not self.errors and not has_text and not cleaned.get("attachments"):
            self.add_error("body", _("Write a message or choose a file."))
        return cleaned


class LeaveMessageForm(forms.Form):
    body = _message_field(required=True, label=_("Your message"))


class ToTicketForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={"required": _("Give the ticket a subject.")},
    )
    severity = severity_field(initial=Severity.STANDARD)


class AttachForm(forms.Form):
    ticket = forms.IntegerField(
        label=_("Ticket number"),
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "required": _("Give the ticket's number."),
            "invalid": _("A ticket number is a whole number, such as 1042."),
        },
    )
