import pytest

from accounts import services
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_logs_in_sees_the_agent_card_and_switches_to_bulgarian(live_server, page):
    company = vip_company(name="Acme Ltd")
    services.company_assign_agents(
        company=company,
        dedicated=AgentFactory(first_name="Maria", last_name="Ivanova"),
        backup=SeniorFactory(),
    )
    CustomerFactory(email="alice@acme.example", company=company)

    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "alice@acme.example")
    page.fill("#id_password", "demo")
    page.click("button[type=submit].primary")

    card = page.locator('[data-testid="agent-card"]')
    card.wait_for()
    assert page.url == f"{live_server.url}/"
    assert "Your dedicated agent" in card.inner_text()
    assert "Maria Ivanova" in card.inner_text()
    assert "Mon–Fri 09:00–17:00 CET" in card.inner_text()

    page.click("button[name=language][value=bg]")
    page.wait_for_selector("html[lang=bg]")

    card = page.locator('[data-testid="agent-card"]')
    assert "Вашият специален служител" in card.inner_text()
    assert "Maria Ivanova" in card.inner_text()
    assert "Пон–Пет 09:00–17:00 CET" in card.inner_text()
    assert page.locator("text=Изход").is_visible()
