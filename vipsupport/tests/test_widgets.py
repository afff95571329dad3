"""`ManyOptionsSelect` writes exactly the HTML Django's `Select` renders through its templates."""

import pytest
from django import forms

from accounts.models import User
from accounts.tests.factories import UserFactory
from vipsupport.widgets import ManyOptionsSelect

CHOICES = [
    ("", "Nobody"),
    (1, "A & B <script>"),
    (2, "Quote \" and apostrophe '"),
    ("Group <g>", [(3, "In a group"), (4, "Another")]),
]


@pytest.mark.parametrize("value", [None, "", 2, "3", [1, 4]])
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_assignee", "required": True, "disabled": False, "data-x": 'a"b<c>'},
    ],
)
def test_same_html_as_djangos_select(value, attrs):
    expected = forms.Select(choices=CHOICES, attrs=attrs).render("assignee", value)
    assert ManyOptionsSelect(choices=CHOICES, attrs=attrs).render("assignee", value) == expected


@pytest.mark.django_db
def test_a_model_choice_field_renders_the_same():
    users = [UserFactory(), UserFactory()]

    def field(widget):
        return forms.ModelChoiceField(
            queryset=User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"),
            empty_label="Nobody",
            widget=widget,
        )

    class Plain(forms.Form):
        user = field(forms.Select)

    class Quick(forms.Form):
        user = field(ManyOptionsSelect)

    assert str(Quick(initial={"user": users[1].pk})["user"]) == str(
        Plain(initial={"user": users[1].pk})["user"]
    )
