import pytest

from accounts.tests.factories import CustomerFactory, vip_company

pytestmark = pytest.mark.django_db


def test_switching_to_bulgarian_translates_the_page_and_is_remembered(client_for):
    customer = CustomerFactory(company=vip_company())
    client = client_for(customer)

    response = client.post("/i18n/language/", {"language": "bg", "next": "/"}, follow=True)

    assert response.status_code == 200
    assert '<html lang="bg">' in response.text
    assert "Вашият специален служител" in response.text
    customer.refresh_from_db()
    assert customer.preferred_language == "bg"


def test_the_saved_language_applies_on_a_new_session(client_for):
    customer = CustomerFactory(company=vip_company(), preferred_language="bg")

    response = client_for(customer).get("/")

    assert '<html lang="bg">' in response.text


def test_anonymous_visitors_can_switch_language(client):
    response = client.post(
        "/i18n/language/", {"language": "bg", "next": "/accounts/login/"}, follow=True
    )

    assert '<html lang="bg">' in response.text
    assert "Вход" in response.text


def test_an_unknown_language_is_ignored(client_for):
    customer = CustomerFactory()

    client_for(customer).post("/i18n/language/", {"language": "xx", "next": "/"})

    customer.refresh_from_db()
    assert customer.preferred_language == "en"
