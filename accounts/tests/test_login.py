import pytest
from django.contrib.auth.models import Group

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import (
    AgentFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
)
from outbox.services import emails_send_pending

pytestmark = pytest.mark.django_db


def manager():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def admin():
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.mark.parametrize(
    ("make_user", "landing"),
    [
        (CustomerFactory, "/"),
        (AgentFactory, "/queue/"),
        (SeniorFactory, "/queue/"),
        (manager, "/reports/"),
        (admin, "/admin/"),
    ],
)
def test_each_role_lands_on_its_page_after_login(client, make_user, landing):
    user = make_user()

    response = client.post(
        "/accounts/login/", {"username": user.email.upper(), "password": "demo"}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == landing


def test_a_wrong_password_keeps_the_e_mail_and_says_what_is_wrong(client):
    user = CustomerFactory()

    response = client.post("/accounts/login/", {"username": user.email, "password": "nope"})

    assert response.status_code == 200
    assert user.email in response.text
    assert "Please enter a correct e-mail address and password" in response.text


@pytest.mark.parametrize("url", ["/", "/queue/", "/reports/", "/accounts/welcome/"])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", ["/queue/", "/reports/"])
def test_customers_are_refused_staff_pages(client_for, url):
    assert client_for(CustomerFactory()).get(url).status_code == 403


def test_agents_are_refused_reports(client_for):
    assert client_for(AgentFactory()).get("/reports/").status_code == 403


def test_customers_cannot_use_the_admin(client_for):
    response = client_for(CustomerFactory()).get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_password_reset_sends_a_link(client, mailoutbox):
    user = CustomerFactory()

    response = client.post("/accounts/password_reset/", {"email": user.email}, follow=True)
    emails_send_pending()  # the outbox's sender, as a worker runs it after the commit

    assert response.status_code == 200
    assert "Check your e-mail" in response.text
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert mailoutbox[0].extra_headers["Auto-Submitted"] == "auto-generated"


def test_logout_is_a_post(client_for):
    client = client_for(CustomerFactory())

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/").status_code == 302
