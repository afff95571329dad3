"""Forms for the admin's intermediate pages; they only parse, the services decide."""

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Plan, User


def _agents() -> QuerySet[User]:
    return User.objects.filter(agent_profile__isnull=False).select_related("agent_profile")


class AssignAgentsForm(forms.Form):
    dedicated = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Dedicated agent"))
    backup = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("Backup agent"), required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in ("dedicated", "backup"):
            self.fields[name].queryset = _agents()  # type: ignore[attr-defined]


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), label=_("New plan"))
    on = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
