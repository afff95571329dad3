"""Forms for the staff mail pages; they only parse, `mail.services` decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Company
from vipsupport.fields import IdChoiceField


class InboundAcceptForm(forms.Form):
    """Vouch for an unknown sender: the company they belong to, and their name if it is known."""

    company = IdChoiceField(
        label=_("Company"),
        queryset=Company.objects.all(),
        error_messages={
            "required": _("Choose the company the sender belongs to."),
            "invalid_choice": _("Choose a company from the list."),
        },
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)


class InboundRejectForm(forms.Form):
    """No fields: it carries the service's refusal back to the page."""
