"""Forms for the phone channel's staff pages; they only parse, `voice.services` decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.forms import customer_field


class VoicemailFileForm(forms.Form):
    """File a voicemail from an unknown number for the customer who left it."""

    requester = customer_field(required=_("Choose the customer who left the voicemail."))
