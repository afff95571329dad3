"""The profile page: name, language and time zone, with clear errors and nothing lost."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AgentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

URL = reverse("accounts:profile")


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("factory", [CustomerFactory, AgentFactory])
def test_every_user_changes_name_language_and_zone(client_for, factory):
    user = factory(first_name="Ana", time_zone="Europe/Berlin")
    client = client_for(user)

    response = client.post(
        URL,
        {
            "first_name": " Ana Maria ",
            "last_name": "Popova",
            "preferred_language": "bg",
            "time_zone": "America/New_York",
        },
        follow=True,
    )

    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ana Maria", "Popova")
    assert (user.preferred_language, user.time_zone) == ("bg", "America/New_York")
    # The next page already speaks the new language and names the new zone.
    assert response.content.decode().count("America/New_York") >= 1
    assert '<html lang="bg">' in response.content.decode()


def test_an_unknown_zone_is_refused_and_the_rest_is_kept(client_for):
    user = CustomerFactory(first_name="Ana", time_zone="Europe/Berlin")
    client = client_for(user)

    response = client.post(
        URL,
        {
            "first_name": "Typed name",
            "last_name": "",
            "preferred_language": "en",
            "time_zone": "Mars/Olympus_Mons",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert 'value="Typed name"' in page
    user.refresh_from_db()
    assert (user.first_name, user.time_zone) == ("Ana", "Europe/Berlin")


def test_the_profile_links_to_the_calendar_subscription(client_for):
    response = client_for(CustomerFactory()).get(URL)

    assert reverse("scheduling:subscription") in response.content.decode()
