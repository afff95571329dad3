import datetime
from datetime import UTC

import pytest
import time_machine

from accounts import selectors, services
from accounts.models import ApiToken
from accounts.tests.factories import CustomerFactory
from accounts.tokens import token_hash

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


class TestService:
    def test_only_the_hash_is_kept(self):
        user = CustomerFactory()

        row, token = services.api_token_create(user=user, name=" Monitoring ", lifetime_days=90)

        assert token.startswith("vip_")
        assert len(token) > 40
        assert row.name == "Monitoring"
        assert row.key_hash == token_hash(token)
        assert token not in str(ApiToken.objects.values_list().get())
        assert row.prefix == token[:8]
        assert row.expires_at == NOW + datetime.timedelta(days=90)

    def test_the_token_finds_its_user_until_it_expires(self):
        user = CustomerFactory()
        _row, token = services.api_token_create(user=user, name="cron", lifetime_days=7)

        assert selectors.api_token_find(key=token, now=NOW).user == user
        assert selectors.api_token_find(key=token, now=NOW + datetime.timedelta(days=7)) is None
        assert selectors.api_token_find(key=token + "x", now=NOW) is None
        assert selectors.api_token_find(key="", now=NOW) is None

    def test_an_unknown_lifetime_is_refused(self):
        with pytest.raises(services.ValidationError) as refused:
            services.api_token_create(user=CustomerFactory(), name="x", lifetime_days=10_000)

        assert "lifetime_days" in refused.value.message_dict

    def test_a_user_has_at_most_twenty(self):
        user = CustomerFactory()
        for number in range(services.API_TOKENS_PER_USER):
            services.api_token_create(user=user, name=f"t{number}", lifetime_days=7)

        with pytest.raises(services.ValidationError):
            services.api_token_create(user=user, name="one more", lifetime_days=7)

    def test_only_the_owner_revokes(self):
        owner, other = CustomerFactory(), CustomerFactory()
        row, _token = services.api_token_create(user=owner, name="x", lifetime_days=7)

        assert not services.api_token_revoke(user=other, token_id=row.pk)
        assert services.api_token_revoke(user=owner, token_id=row.pk)
        assert not ApiToken.objects.exists()


class TestProfilePage:
    def test_a_new_token_is_shown_once(self, client_for):
        user = CustomerFactory()
        client = client_for(user)

        created = client.post("/profile/tokens/", {"name": "Monitoring", "lifetime_days": "30"})
        shown = client.get(created["Location"])
        again = client.get("/profile/")

        assert created.status_code == 302
        assert created["Location"] == "/profile/#api-tokens"
        token = shown.context["new_token"]
        assert shown["Cache-Control"] == "no-store"
        assert token in shown.text
        assert token not in again.text
        assert ApiToken.objects.count() == 1  # a reload of the page made nothing
        assert "Monitoring" in again.text
        assert token[:8] in again.text
        assert selectors.api_token_find(key=token, now=NOW).user == user

    def test_a_missing_name_is_explained_and_the_choice_kept(self, client_for):
        client = client_for(CustomerFactory())

        response = client.post("/profile/tokens/", {"name": "", "lifetime_days": "365"})

        assert response.status_code == 400
        assert "This field is required." in response.text
        assert '<option value="365" selected>' in response.text
        assert not ApiToken.objects.exists()

    def test_revoking_a_token(self, client_for):
        user = CustomerFactory()
        row, _token = services.api_token_create(user=user, name="cron", lifetime_days=7)

        response = client_for(user).post(f"/profile/tokens/{row.pk}/revoke/")

        assert response.status_code == 302
        assert not ApiToken.objects.exists()

    def test_someone_elses_token_is_404(self, client_for):
        row, _token = services.api_token_create(
            user=CustomerFactory(), name="cron", lifetime_days=7
        )

        response = client_for(CustomerFactory()).post(f"/profile/tokens/{row.pk}/revoke/")

        assert response.status_code == 404
        assert ApiToken.objects.filter(pk=row.pk).exists()

    def test_an_expired_token_says_so(self, client_for):
        user = CustomerFactory()
        services.api_token_create(user=user, name="cron", lifetime_days=7)

        with time_machine.travel(NOW + datetime.timedelta(days=8), tick=False):
            page = client_for(user).get("/profile/").text

        assert "expired" in page


def test_the_page_title_is_only_the_title(client_for):
    page = client_for(CustomerFactory()).get("/profile/").text

    title = page.split("<title>")[1].split("</title>")[0]
    assert "API tokens" not in title
    assert page.count('id="api-tokens"') == 1
