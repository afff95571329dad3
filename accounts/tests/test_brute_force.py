"""Brute-force protection: sign-in lockouts (django-axes) and the password-reset e-mail limits."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import AsyncClient, Client
from django.urls import resolve

from accounts import views
from accounts.tests.factories import CustomerFactory, UserFactory
from outbox.services import emails_send_pending

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
RESET = "/accounts/password_reset/"
LOCKED_EN = "Too many failed sign-ins for this account from your address. Try again in 15 minutes"
LOCKED_BG = "Твърде много неуспешни опити за вход в този акаунт от вашия адрес"
SENT = "Check your e-mail"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


def fail_ten_times(client, email, **extra):
    for _ in range(10):
        client.post(LOGIN, {"username": email, "password": "wrong"}, **extra)


def log_in(client, email, **extra):
    return client.post(LOGIN, {"username": email, "password": "demo"}, **extra)


def assert_locked_out(response, message=LOCKED_EN):
    assert response.status_code == 429
    assert message in response.text
    assert 'name="username"' in response.text  # the login page itself, not a bare 403 text


# --- sign-in lockouts -------------------------------------------------------------------------


def test_ten_wrong_passwords_then_the_right_one_is_refused_with_a_message(client):
    user = CustomerFactory()

    fail_ten_times(client, user.email)
    response = log_in(client, user.email)

    assert_locked_out(response)
    assert user.email in response.text  # the e-mail stays in the form
    assert client.get("/").status_code == 302  # not logged in


@pytest.mark.parametrize("how", ["accept-language", "language switch"])
def test_the_lockout_message_is_in_bulgarian_for_a_bulgarian_visitor(client, how):
    user = CustomerFactory()
    extra = {"HTTP_ACCEPT_LANGUAGE": "bg"} if how == "accept-language" else {}
    if how == "language switch":
        client.post("/i18n/language/", {"language": "bg", "next": LOGIN})

    fail_ten_times(client, user.email, **extra)
    response = log_in(client, user.email, **extra)

    assert_locked_out(response, LOCKED_BG)
    assert '<html lang="bg">' in response.text


def test_the_lockout_ends_15_minutes_after_the_last_attempt():
    user = CustomerFactory()
    client = Client()
    start = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)

    with time_machine.travel(start, tick=False):
        fail_ten_times(client, user.email)
        assert_locked_out(log_in(client, user.email))
    last = start + timedelta(minutes=14, seconds=59)
    with time_machine.travel(last, tick=False):
        assert_locked_out(log_in(client, user.email))  # which starts the 15 minutes again
    with time_machine.travel(last + timedelta(minutes=15, seconds=1), tick=False):
        response = log_in(client, user.email)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/welcome/"


def test_a_successful_sign_in_clears_the_failures(client):
    user = CustomerFactory()

    for _ in range(2):
        for _ in range(9):
            client.post(LOGIN, {"username": user.email, "password": "wrong"})
        assert log_in(client, user.email).status_code == 302
        client.post("/accounts/logout/")

    fail_ten_times(client, user.email)
    assert_locked_out(log_in(client, user.email))  # ten in a row still lock


def test_another_client_address_is_not_locked():
    user = CustomerFactory()
    attacker, owner = Client(REMOTE_ADDR=ATTACKER), Client(REMOTE_ADDR=ELSEWHERE)

    fail_ten_times(attacker, user.email)

    assert log_in(owner, user.email).status_code == 302
    assert_locked_out(log_in(attacker, user.email))


def test_x_forwarded_for_does_not_change_the_client_address():
    user = CustomerFactory()
    client = Client(REMOTE_ADDR=ATTACKER)

    for n in range(10):
        client.post(
            LOGIN,
            {"username": user.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    assert_locked_out(log_in(client, user.email, HTTP_X_FORWARDED_FOR="192.0.2.99"))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_changing_the_case_of_the_e_mail_does_not_start_a_new_count(client):
    user = CustomerFactory(email="ann@example.com")
    spellings = ["ann@example.com", "Ann@Example.com", "ANN@EXAMPLE.COM", " ann@example.com "]

    for n in range(10):
        client.post(LOGIN, {"username": spellings[n % 4], "password": "wrong"})

    assert_locked_out(log_in(client, "ANN@example.com"))
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {user.email}


def test_an_admin_sees_the_lockout_and_unlocks_the_account_in_the_django_admin(client):
    user = CustomerFactory()
    fail_ten_times(client, user.email)
    assert_locked_out(log_in(client, user.email))
    admin = Client()
    admin.force_login(UserFactory(is_superuser=True, is_staff=True))

    assert "Access attempts" in admin.get("/admin/").text
    changelist = admin.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200
    assert user.email in changelist.text
    attempt = AccessAttempt.objects.get(username=user.email)
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert log_in(client, user.email).status_code == 302


def test_the_axes_reset_username_command_unlocks_the_account(client):
    user = CustomerFactory()
    fail_ten_times(client, user.email)
    assert_locked_out(log_in(client, user.email))

    call_command("axes_reset_username", user.email)

    assert log_in(client, user.email).status_code == 302


def test_the_lockout_page_also_comes_under_asgi():
    """Production runs under uvicorn, where axes' middleware takes its async path."""
    user = CustomerFactory()
    client, bulgarian = AsyncClient(), {"accept-language": "bg"}

    async def attempts():
        for _ in range(10):
            await client.post(
                LOGIN, {"username": user.email, "password": "wrong"}, headers=bulgarian
            )
        return await client.post(
            LOGIN, {"username": user.email, "password": "demo"}, headers=bulgarian
        )

    assert_locked_out(async_to_sync(attempts)(), LOCKED_BG)


# --- password-reset e-mails -------------------------------------------------------------------


@pytest.fixture
def an_hour():
    """Reset limits count per clock hour: every reset test runs at 10:05 on one day."""
    with time_machine.travel(datetime(2027, 3, 1, 10, 5, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def ask_reset(client, email, **extra):
    response = client.post(RESET, {"email": email}, follow=True, **extra)
    emails_send_pending()  # the outbox's sender, as a worker runs it after the commit
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/accounts/password_reset/done/"
    assert SENT in response.text
    return response


def test_the_reset_form_is_the_throttled_one():
    assert resolve(RESET).func.view_class is views.PasswordResetView


def test_three_reset_e_mails_per_address_an_hour_and_the_page_still_says_sent(
    client, mailoutbox, an_hour, caplog
):
    user = CustomerFactory()

    with caplog.at_level(logging.WARNING, logger="accounts.throttle"):
        for email in [user.email, user.email, user.email.upper(), user.email, user.email]:
            ask_reset(client, email)

    assert len(mailoutbox) == 3
    assert {tuple(message.to) for message in mailoutbox} == {(user.email,)}
    refusals = [
        record.getMessage() for record in caplog.records if record.name == "accounts.throttle"
    ]
    assert len(refusals) == 2
    assert all(f"e-mail to {user.email} not sent" in refusal for refusal in refusals)


def test_ten_reset_e_mails_per_client_address_an_hour(mailoutbox, an_hour):
    """Addresses with and without an account count alike, so the limit tells nothing."""
    customers = [CustomerFactory() for _ in range(5)]
    client = Client(REMOTE_ADDR=ATTACKER)

    for n in range(5):
        ask_reset(client, f"nobody{n}@example.com")
    for customer in customers:
        ask_reset(client, customer.email)
    assert len(mailoutbox) == 5
    late = CustomerFactory()
    ask_reset(client, late.email)
    assert len(mailoutbox) == 5

    ask_reset(Client(REMOTE_ADDR=ELSEWHERE), late.email)
    assert len(mailoutbox) == 6
    assert mailoutbox[-1].to == [late.email]


def test_the_reset_limits_start_again_the_next_hour(client, mailoutbox, an_hour):
    user = CustomerFactory()
    for _ in range(4):
        ask_reset(client, user.email)
    assert len(mailoutbox) == 3

    an_hour.move_to(datetime(2027, 3, 1, 10, 59, 59, tzinfo=UTC))
    ask_reset(client, user.email)
    assert len(mailoutbox) == 3

    an_hour.move_to(datetime(2027, 3, 1, 11, 0, 0, tzinfo=UTC))
    ask_reset(client, user.email)
    assert len(mailoutbox) == 4
