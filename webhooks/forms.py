from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import URL_MAX_LENGTH, EventType


class WebhookEndpointForm(forms.Form):
    # A plain text field: the service's validator says what is wrong with an address, once.
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/vip-support"}),
        help_text=_("We POST each event there as JSON, signed with the endpoint's secret."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
