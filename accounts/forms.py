"""Forms for the profile page and the admin's intermediate pages; they only parse, the services
decide."""

import zoneinfo

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Language, Plan, User
from vipsupport.fields import IdChoiceField


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


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zone_choices,
        help_text=_("Every time in the portal and in e-mails is shown in this zone."),
    )
