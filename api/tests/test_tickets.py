import datetime
from datetime import UTC

import pytest
import time_machine
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    SeniorFactory,
    UserFactory,
    vip_company,
)
from tickets import services
from tickets.models import Channel, Escalation, Status, Ticket, TicketMessage, Visibility
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

# A Tuesday in the desk's hours (Sofia): SLA clocks start at once.
TUESDAY = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(TUESDAY, tick=False):
        yield


@pytest.fixture
def acme():
    company = vip_company(name="Acme Ltd")
    account_services.company_assign_agents(
        company=company, dedicated=AgentFactory(first_name="Maria"), backup=SeniorFactory()
    )
    return company


@pytest.fixture
def alice(acme):
    return CustomerFactory(company=acme, first_name="Alice")


@pytest.fixture
def bob(acme):
    return CustomerFactory(company=acme, first_name="Bob")


@pytest.fixture
def mallory():
    return CustomerFactory(company=CompanyFactory(name="Globex"), first_name="Mallory")


@pytest.fixture
def agent():
    return AgentFactory(first_name="Ivan")


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]


class TestAuthentication:
    def test_no_credentials_is_401_in_the_error_shape(self):
        response = APIClient().get("/api/v1/tickets/")

        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    @pytest.mark.parametrize(
        "header",
        ["Bearer vip_not-a-token", "Bearer", "Token a b", "Bearer " + "x" * 500, "Bearer ünï"],
    )
    def test_a_bad_token_is_401(self, header):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)

        response = client.get("/api/v1/tickets/")

        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"

    def test_an_expired_token_stops_working(self, alice):
        _row, token = account_services.api_token_create(user=alice, name="cron", lifetime_days=7)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v1/tickets/").status_code == 200

        with time_machine.travel(TUESDAY + datetime.timedelta(days=7, seconds=1), tick=False):
            assert client.get("/api/v1/tickets/").status_code == 401

    def test_a_revoked_token_stops_working_at_once(self, alice):
        row, token = account_services.api_token_create(user=alice, name="cron", lifetime_days=30)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v1/tickets/").status_code == 200

        assert account_services.api_token_revoke(user=alice, token_id=row.pk)

        assert client.get("/api/v1/tickets/").status_code == 401

    def test_a_deactivated_users_token_stops_working(self, alice, api_client_for):
        client = api_client_for(alice)
        alice.is_active = False
        alice.save()

        assert client.get("/api/v1/tickets/").status_code == 401

    def test_the_token_notes_when_it_was_last_used(self, alice):
        row, token = account_services.api_token_create(user=alice, name="cron", lifetime_days=30)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        client.get("/api/v1/tickets/")

        row.refresh_from_db()
        assert row.last_used_at == TUESDAY

    def test_the_browser_session_works_and_needs_the_csrf_token_to_write(self, alice):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(alice)

        assert client.get("/api/v1/tickets/").status_code == 200
        response = client.post(
            "/api/v1/tickets/",
            {"subject": "Down", "description": "All down", "severity": 1},
            format="json",
        )
        assert response.status_code == 403
        assert "CSRF" in error_of(response)["message"]

    def test_a_user_with_no_role_is_403(self, api_client_for):
        response = api_client_for(UserFactory()).get("/api/v1/tickets/")

        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"


class TestTenantIsolation:
    """Another company's ticket does not exist for a customer, by every route."""

    ROUTES = [
        ("get", "/api/v1/tickets/{id}/", None),
        ("post", "/api/v1/tickets/{id}/replies/", {"body": "Hello"}),
        ("post", "/api/v1/tickets/{id}/status/", {"status": "solved"}),
        ("post", "/api/v1/tickets/{id}/escalation/", {"reason": "Urgent"}),
    ]

    @pytest.mark.parametrize(("method", "path", "data"), ROUTES)
    def test_a_foreign_ticket_is_404(self, method, path, data, alice, mallory, api_client_for):
        ticket = make_ticket(requester=alice)

        response = getattr(api_client_for(mallory), method)(
            path.format(id=ticket.pk), data, format="json"
        )

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
        assert TicketMessage.objects.filter(ticket=ticket).count() == 0
        ticket.refresh_from_db()
        assert ticket.status == Status.NEW
        assert not Escalation.objects.exists()

    def test_the_list_shows_only_the_own_companys_tickets(
        self, alice, bob, mallory, api_client_for
    ):
        mine = make_ticket(requester=alice)
        colleagues = make_ticket(requester=bob)
        make_ticket(requester=mallory)

        results = api_client_for(alice).get("/api/v1/tickets/").json()["results"]

        assert {row["id"] for row in results} == {mine.pk, colleagues.pk}

    def test_an_unknown_address_under_api_is_a_json_404(self, alice, api_client_for):
        response = api_client_for(alice).get("/api/v1/nothing-here/")

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    @pytest.mark.parametrize(
        "path", ["/api/v1/tickets/{id}/notes/", "/api/v1/tickets/{id}/assignee/"]
    )
    def test_customers_may_not_use_staff_routes(self, path, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            path.format(id=ticket.pk), {"body": "x", "assignee": None}, format="json"
        )

        assert response.status_code == 403


class TestList:
    def test_filters_and_cursor_pages(self, alice, api_client_for):
        tickets = []
        for minute in range(5):
            with time_machine.travel(TUESDAY + datetime.timedelta(minutes=minute), tick=False):
                tickets.append(make_ticket(requester=alice, severity=2 if minute % 2 else 3))
        services.ticket_set_status(ticket=tickets[0], status=Status.SOLVED, actor=alice)
        client = api_client_for(alice)

        first = client.get("/api/v1/tickets/", {"page_size": 2}).json()
        second = client.get(first["next"]).json()

        assert [row["id"] for row in first["results"]] == [tickets[4].pk, tickets[3].pk]
        assert [row["id"] for row in second["results"]] == [tickets[2].pk, tickets[1].pk]
        assert second["next"] is None
        solved = client.get("/api/v1/tickets/", {"status": "solved"}).json()["results"]
        assert [row["id"] for row in solved] == [tickets[0].pk]
        high = client.get("/api/v1/tickets/", {"severity": 2}).json()["results"]
        assert [row["id"] for row in high] == [tickets[3].pk, tickets[1].pk]

    def test_a_row_carries_what_a_dashboard_needs(self, alice, api_client_for):
        ticket = make_ticket(requester=alice, severity=1, subject="Mail is down")

        row = api_client_for(alice).get("/api/v1/tickets/").json()["results"][0]

        assert row["id"] == ticket.pk
        assert row["subject"] == "Mail is down"
        assert row["severity"] == 1
        assert row["status"] == "new"
        assert row["company"] == {"id": alice.company_id, "name": "Acme Ltd"}
        assert row["requester"]["email"] == alice.email
        assert row["sla_due_at"] == "2026-11-24T10:00:00Z"  # Sev 1: one hour
        assert row["url"] == f"/tickets/{ticket.pk}/"

    @pytest.mark.parametrize(
        "query",
        [
            {"severity": "9"},
            {"severity": "high"},
            {"status": "lost"},
            {"page_size": "-1", "severity": "0"},
            {"q": "x" * 201},
        ],
    )
    def test_bad_filters_are_400_with_the_field_named(self, query, alice, api_client_for):
        response = api_client_for(alice).get("/api/v1/tickets/", query)

        assert response.status_code == 400
        assert error_of(response)["fields"]

    def test_a_forged_cursor_is_refused_not_a_500(self, alice, api_client_for):
        response = api_client_for(alice).get("/api/v1/tickets/", {"cursor": "!!not base64!!"})

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_queries_do_not_grow_with_the_rows(
        self, alice, bob, api_client_for, django_assert_max_num_queries
    ):
        for _ in range(30):
            make_ticket(requester=bob)
        client = api_client_for(alice)

        with django_assert_max_num_queries(6):
            response = client.get("/api/v1/tickets/", {"page_size": 30})

        assert len(response.json()["results"]) == 30

    def test_staff_see_every_company_and_filter_by_one(self, alice, mallory, agent, api_client_for):
        ours = make_ticket(requester=alice)
        theirs = make_ticket(requester=mallory)
        client = api_client_for(agent)

        everything = client.get("/api/v1/tickets/").json()["results"]
        globex = client.get("/api/v1/tickets/", {"company": mallory.company_id}).json()["results"]

        assert {row["id"] for row in everything} == {ours.pk, theirs.pk}
        assert [row["id"] for row in globex] == [theirs.pk]
        assert globex[0]["url"] == f"/queue/tickets/{theirs.pk}/"


class TestCreate:
    def test_a_customer_opens_a_ticket_with_its_sla_target(self, alice, bob, api_client_for):
        response = api_client_for(alice).post(
            "/api/v1/tickets/",
            {
                "subject": "Monitor fired",
                "description": "Our **mail** is down",
                "severity": 1,
                "cc": [bob.pk],
            },
            format="json",
        )

        assert response.status_code == 201
        body = response.json()
        assert response["Location"] == f"/api/v1/tickets/{body['id']}/"
        ticket = Ticket.objects.get(pk=body["id"])
        assert ticket.requester == alice
        assert ticket.channel == Channel.WEB
        assert list(ticket.cc.all()) == [bob]
        assert body["description_html"] == "<p>Our <strong>mail</strong> is down</p>\n"
        assert body["cc"] == [{"id": bob.pk, "name": bob.get_full_name(), "email": bob.email}]
        [target] = body["sla_targets"]
        assert target["kind"] == "first_response"
        assert target["target_seconds"] == 3600
        assert target["due_at"] == "2026-11-24T10:00:00Z"

    def test_bad_input_names_each_field_and_stores_nothing(self, alice, api_client_for):
        response = api_client_for(alice).post(
            "/api/v1/tickets/",
            {"subject": "", "severity": 7, "cc": ["x"]},
            format="json",
        )

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid"
        assert set(error["fields"]) == {"subject", "description", "severity", "cc"}
        assert not Ticket.objects.exists()

    def test_a_foreign_colleague_cannot_be_copied(self, alice, mallory, api_client_for):
        response = api_client_for(alice).post(
            "/api/v1/tickets/",
            {"subject": "S", "description": "D", "severity": 3, "cc": [mallory.pk]},
            format="json",
        )

        assert response.status_code == 400
        assert "cc" in error_of(response)["fields"]
        assert not Ticket.objects.exists()

    def test_a_customer_cannot_file_for_someone_else(self, alice, mallory, api_client_for):
        response = api_client_for(alice).post(
            "/api/v1/tickets/",
            {
                "subject": "S",
                "description": "D",
                "severity": 3,
                "requester": mallory.pk,
                "channel": "phone",
            },
            format="json",
        )

        assert response.status_code == 400
        assert set(error_of(response)["fields"]) == {"requester", "channel"}

    def test_staff_file_a_phoned_in_ticket_dated_when_it_came(self, alice, agent, api_client_for):
        received = TUESDAY - datetime.timedelta(hours=2)
        response = api_client_for(agent).post(
            "/api/v1/tickets/",
            {
                "subject": "Called about mail",
                "description": "Phoned in",
                "severity": 2,
                "requester": alice.pk,
                "channel": "phone",
                "received_at": received.isoformat(),
            },
            format="json",
        )

        assert response.status_code == 201
        ticket = Ticket.objects.get(pk=response.json()["id"])
        assert (ticket.requester, ticket.channel, ticket.created_at) == (
            alice,
            Channel.PHONE,
            received,
        )

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"received_at": "2026-11-10T09:00:00Z"}, "received_at"),
            ({"received_at": "2026-11-25T09:00:00Z"}, "received_at"),
            ({"channel": "web"}, "channel"),
            ({"requester": 999999}, "requester"),
            ({"requester": None}, "requester"),
        ],
    )
    def test_staff_filing_refusals(self, changes, field, alice, agent, api_client_for):
        data = {
            "subject": "S",
            "description": "D",
            "severity": 2,
            "requester": alice.pk,
            "channel": "phone",
            **changes,
        }

        response = api_client_for(agent).post("/api/v1/tickets/", data, format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]

    @pytest.mark.parametrize(
        "body",
        ['{"subject": ', "[1, 2]", "null", '"text"', '{"severity": {"a": 1}}'],
    )
    def test_malformed_json_is_400_not_500(self, body, alice, api_client_for):
        response = api_client_for(alice).post(
            "/api/v1/tickets/", body, content_type="application/json"
        )

        assert response.status_code == 400
        error_of(response)

    def test_a_form_post_is_415(self, alice, api_client_for):
        response = api_client_for(alice).post("/api/v1/tickets/", {"subject": "S"})

        assert response.status_code == 415
        assert error_of(response)["code"] == "unsupported_media_type"


class TestConversation:
    def test_the_customer_reads_public_replies_never_notes(self, alice, agent, api_client_for):
        ticket = make_ticket(requester=alice)
        services.ticket_reply(ticket=ticket, author=agent, body="We are on it")
        services.ticket_add_note(ticket=ticket, author=agent, body="Secret: their DNS is wrong")

        body = api_client_for(alice).get(f"/api/v1/tickets/{ticket.pk}/").json()
        staff_view = api_client_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()

        assert [message["body"] for message in body["messages"]] == ["We are on it"]
        assert body["messages"][0]["side"] == "staff"
        assert [message["visibility"] for message in staff_view["messages"]] == [
            "public",
            "internal",
        ]

    def test_a_customer_reply_lands_on_the_ticket(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            f"/api/v1/tickets/{ticket.pk}/replies/", {"body": "More detail"}, format="json"
        )

        assert response.status_code == 201
        assert response.json()["side"] == "customer"
        assert ticket.messages.get().body == "More detail"

    def test_only_staff_set_a_status_with_a_reply(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            f"/api/v1/tickets/{ticket.pk}/replies/",
            {"body": "Done?", "then": "solved"},
            format="json",
        )

        assert response.status_code == 400
        assert "then" in error_of(response)["fields"]
        assert not ticket.messages.exists()

    def test_a_staff_reply_answers_the_first_response_target(self, alice, agent, api_client_for):
        ticket = make_ticket(requester=alice)

        api_client_for(agent).post(
            f"/api/v1/tickets/{ticket.pk}/replies/",
            {"body": "Looking", "then": "waiting"},
            format="json",
        )

        body = api_client_for(alice).get(f"/api/v1/tickets/{ticket.pk}/").json()
        assert body["status"] == "waiting"
        assert body["sla_targets"][0]["state"] == "fulfilled"

    def test_a_note_is_internal(self, alice, agent, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(agent).post(
            f"/api/v1/tickets/{ticket.pk}/notes/", {"body": "Check DNS"}, format="json"
        )

        assert response.status_code == 201
        assert ticket.messages.get().visibility == Visibility.INTERNAL

    def test_an_empty_reply_is_refused(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            f"/api/v1/tickets/{ticket.pk}/replies/", {"body": "   "}, format="json"
        )

        assert response.status_code == 400
        assert "body" in error_of(response)["fields"]

    def test_detail_queries_are_bounded(
        self, alice, agent, api_client_for, django_assert_max_num_queries
    ):
        ticket = make_ticket(requester=alice)
        for number in range(10):
            services.ticket_reply(ticket=ticket, author=agent, body=f"Reply {number}")
        client = api_client_for(alice)

        with django_assert_max_num_queries(14):
            response = client.get(f"/api/v1/tickets/{ticket.pk}/")

        assert len(response.json()["messages"]) == 10


class TestChanges:
    def test_the_customer_solves_and_reopens(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)
        client = api_client_for(alice)

        solved = client.post(
            f"/api/v1/tickets/{ticket.pk}/status/", {"status": "solved"}, format="json"
        )
        reopened = client.post(
            f"/api/v1/tickets/{ticket.pk}/status/", {"status": "open"}, format="json"
        )

        assert (solved.status_code, solved.json()["status"]) == (200, "solved")
        assert (reopened.status_code, reopened.json()["status"]) == (200, "open")

    def test_a_customer_may_not_close_a_ticket(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            f"/api/v1/tickets/{ticket.pk}/status/", {"status": "closed"}, format="json"
        )

        assert response.status_code == 400
        assert (
            "Customers can only mark a ticket solved or reopen it."
            in error_of(response)["fields"]["non_field_errors"]
        )
        ticket.refresh_from_db()
        assert ticket.status == Status.NEW

    def test_staff_change_the_severity_with_a_reason(self, alice, agent, api_client_for):
        ticket = make_ticket(requester=alice, severity=3)
        client = api_client_for(agent)

        missing = client.post(
            f"/api/v1/tickets/{ticket.pk}/severity/", {"severity": 1}, format="json"
        )
        changed = client.post(
            f"/api/v1/tickets/{ticket.pk}/severity/",
            {"severity": 1, "reason": "Everyone is affected"},
            format="json",
        )

        assert missing.status_code == 400
        assert "reason" in error_of(missing)["fields"]
        assert changed.status_code == 200
        assert changed.json()["severity"] == 1
        assert changed.json()["sla_due_at"] == "2026-11-24T10:00:00Z"

    def test_customers_may_not_change_the_severity(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            f"/api/v1/tickets/{ticket.pk}/severity/",
            {"severity": 1, "reason": "Hurry"},
            format="json",
        )

        assert response.status_code == 403

    def test_a_vip_customer_escalates(self, alice, api_client_for):
        ticket = make_ticket(requester=alice)

        response = api_client_for(alice).post(
            f"/api/v1/tickets/{ticket.pk}/escalation/", {"reason": "Board meeting"}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["tier"] == 2
        assert Escalation.objects.get().requested_by == alice

    def test_a_customer_without_the_addon_cannot_escalate(self, mallory, api_client_for):
        ticket = make_ticket(requester=mallory)

        response = api_client_for(mallory).post(
            f"/api/v1/tickets/{ticket.pk}/escalation/", {"reason": "Now"}, format="json"
        )

        assert response.status_code == 400
        assert "dedicated-agent add-on" in error_of(response)["message"]
        assert not Escalation.objects.exists()

    def test_staff_assign_and_unassign(self, alice, agent, api_client_for):
        ticket = make_ticket(requester=alice)
        client = api_client_for(agent)

        assigned = client.post(
            f"/api/v1/tickets/{ticket.pk}/assignee/", {"assignee": agent.pk}, format="json"
        )
        unassigned = client.post(
            f"/api/v1/tickets/{ticket.pk}/assignee/", {"assignee": None}, format="json"
        )
        not_an_agent = client.post(
            f"/api/v1/tickets/{ticket.pk}/assignee/", {"assignee": alice.pk}, format="json"
        )

        assert assigned.json()["assignee"]["id"] == agent.pk
        assert unassigned.json()["assignee"] is None
        assert not_an_agent.status_code == 400
        assert "assignee" in error_of(not_an_agent)["fields"]


class TestQueue:
    def test_the_queue_comes_in_the_pages_order_with_keyset_pages(
        self, alice, mallory, agent, api_client_for
    ):
        low = make_ticket(requester=mallory, severity=4)
        urgent = make_ticket(requester=alice, severity=1)
        standard = make_ticket(requester=alice, severity=3)
        client = api_client_for(agent)

        body = client.get("/api/v1/queue/").json()

        assert [row["id"] for row in body["results"]] == [urgent.pk, standard.pk, low.pk]
        assert body["results"][0]["is_vip"] is True
        assert body["next"] is None

    def test_pages_follow_the_cursor(self, alice, agent, api_client_for):
        tickets = [make_ticket(requester=alice, severity=severity) for severity in (1, 2, 3)]
        client = api_client_for(agent)

        first = client.get("/api/v1/queue/", {"page_size": 2}).json()
        second = client.get("/api/v1/queue/", {"page_size": 2, "after": first["next"]}).json()

        assert second["next"] is None
        assert [row["id"] for row in first["results"] + second["results"]] == [
            ticket.pk for ticket in tickets
        ]

    def test_customers_have_no_queue(self, alice, api_client_for):
        assert api_client_for(alice).get("/api/v1/queue/").status_code == 403

    def test_a_manager_reads_it(self, alice, api_client_for):
        manager = UserFactory()
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        make_ticket(requester=alice)

        assert len(api_client_for(manager).get("/api/v1/queue/").json()["results"]) == 1

    @pytest.mark.parametrize("query", [{"after": "garbage"}, {"view": "everything"}])
    def test_bad_queue_input_is_400(self, query, agent, api_client_for):
        response = api_client_for(agent).get("/api/v1/queue/", query)

        assert response.status_code == 400
        error_of(response)


class TestThrottle:
    def test_each_token_has_its_own_allowance(self, alice, bob, api_client_for, settings):
        settings.API_THROTTLE_RATE = "3/minute"
        first, second = api_client_for(alice), api_client_for(bob)

        answers = [first.get("/api/v1/tickets/").status_code for _ in range(4)]
        other = second.get("/api/v1/tickets/").status_code

        assert answers == [200, 200, 200, 429]
        assert other == 200
        response = first.get("/api/v1/tickets/")
        error = error_of(response)
        assert error["code"] == "throttled"
        assert 0 < error["retry_after"] <= 60
        assert response["Retry-After"]


class TestLanguage:
    def test_errors_come_in_the_token_owners_language(self, acme, api_client_for):
        bulgarian = CustomerFactory(company=acme, preferred_language="bg")
        ticket = make_ticket(requester=bulgarian)

        response = api_client_for(bulgarian).post(
            f"/api/v1/tickets/{ticket.pk}/replies/",
            {"body": "Готово?", "then": "solved"},
            format="json",
        )

        assert response.status_code == 400
        assert error_of(response)["message"] == "Проверете полетата и опитайте отново."
        assert error_of(response)["fields"]["then"] == [
            "Само служителите задават статус с отговора си."
        ]


def test_any_unknown_path_under_api_is_a_json_404(alice, api_client_for):
    response = api_client_for(alice).get("/api/v1/bookings/X%0A%2B/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_browsable_api_is_ours_and_leads_back_to_the_portal(client_for, alice):
    page = client_for(alice).get("/api/v1/tickets/", HTTP_ACCEPT="text/html").content.decode()

    assert "<title>Ticket List – VIP Support API</title>" in page
    assert "Back to the portal" in page
    assert "Django REST framework" not in page


def test_the_schema_is_json_a_browser_can_show(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["info"]["title"] == "VIP Support API"
