"""Forms for the profile page and the admin's intermediate pages; they only parse, the services
decide."""

import datetime
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber

from accounts.models import Language, Plan, User
from outbox.services import email_queue
from vipsupport.fields import IdChoiceField
from vipsupport.mail import AUTOMATIC_HEADERS


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, its e-mail written to the outbox like every other: retried when the
    mail server is down, marked automatic, and not sent once the link has expired."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(
            subject, body, from_email, [to_email], headers=AUTOMATIC_HEADERS
        )
        if html_email_template_name is not None:
            html = loader.render_to_string(html_email_template_name, context)
            message.attach_alternative(html, "text/html")
        now = timezone.now()
        email_queue(
            message=message,
            now=now,
            topic=f"password-reset:{context['uid']}",
            expires_at=now + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        )


def _agents() -> QuerySet[User]:
    return User.objects.filter(agent_profile__isnull=False).select_related("agent_profile")


class AssignAgentsForm(forms.Form):
    dedicated = IdChoiceField(queryset=User.objects.none(), label=_("Dedicated agent"))
    backup = IdChoiceField(queryset=User.objects.none(), label=_("Backup agent"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in ("dedicated", "backup"):
            self.fields[name].queryset = _agents()  # type: ignore[attr-defined]


class ChangePlanForm(forms.Form):
    plan = IdChoiceField(queryset=Plan.objects.all(), label=_("New plan"))
    on = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )


def _zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in sorted(zoneinfo.available_timezones())]


class PhoneNumberInput(forms.TextInput):
    """A phone number field's input: a stored number in international notation, what the visitor
    typed exactly as typed (even when it is no number)."""

    input_type = "tel"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, PhoneNumber) and value.is_valid():
            return str(value.as_international)
        return super().format_value(value)


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zone_choices,
        help_text=_("Every time in the portal and in e-mails is shown in this zone."),
    )
    # Invalid input gets phonenumber_field's translated "Enter a valid phone number (e.g. …)".
    phone_number = PhoneNumberField(
        label=_("Phone number"),
        required=False,
        widget=PhoneNumberInput(attrs={"autocomplete": "tel"}),
        help_text=_(
            "Optional. We recognise you when you call from this number, and call you back on it."
        ),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What uses it, e.g. “Monitoring” or “CRM sync”."),
    )
    lifetime_days = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        initial=90,
        choices=[
            (7, _("7 days")),
            (30, _("30 days")),
            (90, _("90 days")),
            (365, _("1 year")),
        ],
    )
