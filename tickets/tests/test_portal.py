from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as account_services
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    SeniorFactory,
    vip_company,
)
from tickets import services
from tickets.models import Attachment, Escalation, Status, Ticket
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def acme():
    company = vip_company(name="Acme Ltd")
    account_services.company_assign_agents(
        company=company,
        dedicated=AgentFactory(first_name="Maria", last_name="Ivanova"),
        backup=SeniorFactory(),
    )
    return company


@pytest.fixture
def alice(acme):
    return CustomerFactory(company=acme, time_zone="Europe/Berlin")


@pytest.fixture
def mallory():
    return CustomerFactory(company=CompanyFactory(name="Globex"))


class TestNewTicket:
    def test_the_severity_picker_shows_definitions_and_the_policy_targets(self, client_for, alice):
        page = client_for(alice).get("/tickets/new/").text

        assert "The service is down or unavailable." in page
        assert "New e-mails are not received, or an integration does not work." in page
        assert 'data-testid="promise-1">First response within 1 hour<' in page
        assert 'data-testid="promise-3">First response within 2 business hours<' in page
        assert 'data-testid="promise-5">First response within 1 business day<' in page

    def test_a_standard_customer_sees_the_standard_targets(self, client_for, mallory):
        page = client_for(mallory).get("/tickets/new/").text

        assert 'data-testid="promise-1">First response within 1 business day<' in page

    def test_opening_a_ticket_redirects_to_it_with_files_and_colleagues(self, client_for, alice):
        colleague = CustomerFactory(company=alice.company)
        response = client_for(alice).post(
            "/tickets/new/",
            {
                "subject": "Login fails",
                "description": "Nobody can log in since **09:00**.",
                "severity": "1",
                "cc": [colleague.pk],
                "attachments": [SimpleUploadedFile("screen.png", PNG, "image/png")],
            },
        )

        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/tickets/{ticket.pk}/"
        assert (ticket.company, ticket.requester, ticket.severity) == (alice.company, alice, 1)
        assert list(ticket.cc.all()) == [colleague]
        assert Attachment.objects.get().message is None

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"subject": "", "description": "x", "severity": "3"}, "Give the ticket a subject."),
            (
                {"subject": "Broken", "description": "x", "severity": "9"},
                "Choose a severity from 1 to 5.",
            ),
            ({"subject": "Broken", "description": "", "severity": "3"}, "Describe the problem"),
        ],
    )
    def test_bad_input_shows_the_error_and_keeps_what_was_typed(
        self, client_for, alice, data, error
    ):
        response = client_for(alice).post("/tickets/new/", data)

        assert response.status_code == 400
        assert error in response.text
        if data["subject"]:
            assert f'value="{data["subject"]}"' in response.text
        assert not Ticket.objects.exists()

    def test_a_description_over_the_limit_is_refused_and_kept_for_shortening(
        self, client_for, alice
    ):
        long_text = "Log line\n" * 5_555 + "Last line"  # 50 004 characters

        response = client_for(alice).post(
            "/tickets/new/", {"subject": "Logs", "description": long_text, "severity": "3"}
        )

        assert response.status_code == 400
        assert "This text is 50,004 characters long; the limit is 50,000." in response.text
        assert response.context["form"]["description"].value() == long_text
        assert "maxlength" not in str(response.context["form"]["description"])
        assert not Ticket.objects.exists()

    def test_a_reply_over_the_limit_is_refused_with_the_text_kept(self, client_for, alice):
        ticket = make_ticket(requester=alice)
        long_reply = "x" * 50_001

        response = client_for(alice).post(f"/tickets/{ticket.pk}/reply/", {"body": long_reply})

        assert response.status_code == 400
        assert "the limit is 50,000" in response.text
        assert long_reply in response.text
        assert not ticket.messages.exists()

    def test_a_forbidden_file_is_refused_and_nothing_is_created(self, client_for, alice):
        response = client_for(alice).post(
            "/tickets/new/",
            {
                "subject": "Look at this",
                "description": "See the file.",
                "severity": "3",
                "attachments": [SimpleUploadedFile("run.exe", b"MZ\x90\x00" * 10, "image/png")],
            },
        )

        assert response.status_code == 400
        assert "run.exe" in response.text
        assert 'value="Look at this"' in response.text
        assert not Ticket.objects.exists()

    def test_a_colleague_of_another_company_cannot_be_copied(self, client_for, alice, mallory):
        response = client_for(alice).post(
            "/tickets/new/",
            {"subject": "x", "description": "y", "severity": "3", "cc": [mallory.pk]},
        )

        assert response.status_code == 400
        assert not Ticket.objects.exists()


class TestTicketPage:
    def test_the_promise_is_in_the_viewers_zone(self, client_for, alice):
        alice.time_zone = "America/New_York"
        alice.save()
        # Friday 2026-11-27 15:30 UTC is 16:30 in Berlin and 10:30 in New York.
        ticket = make_ticket(
            requester=alice, severity=3, at=datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
        )

        with time_machine.travel(datetime(2026, 11, 27, 16, tzinfo=UTC), tick=False):
            page = client_for(alice).get(f"/tickets/{ticket.pk}/").text

        assert "We will reply by Mon 30 Nov 04:30 (your time, America/New_York)." in page

    def test_after_a_staff_reply_the_customer_sees_it_and_the_next_update_time(
        self, client_for, alice
    ):
        at = datetime(2026, 11, 30, 8, tzinfo=UTC)
        ticket = make_ticket(requester=alice, severity=1, at=at)
        services.ticket_reply(ticket=ticket, author=AgentFactory(), body="We are on it.", at=at)
        services.ticket_add_note(ticket=ticket, author=AgentFactory(), body="Secret theory", at=at)

        page = client_for(alice).get(f"/tickets/{ticket.pk}/").text

        assert "We are on it." in page
        assert "Secret theory" not in page
        assert "Next update due by Mon 30 Nov 13:00" in page

    def test_markdown_is_rendered_without_scripts(self, client_for, alice):
        ticket = make_ticket(requester=alice)
        services.ticket_reply(
            ticket=ticket, author=alice, body="**bold** <script>alert(1)</script>"
        )

        page = client_for(alice).get(f"/tickets/{ticket.pk}/").text

        assert "<strong>bold</strong>" in page
        assert "<script>alert(1)" not in page

    def test_a_stray_tag_in_a_reply_hides_none_of_the_words_after_it(self, client_for, alice):
        ticket = make_ticket(requester=alice)
        services.ticket_reply(
            ticket=ticket, author=alice, body="Before.\n\n<iframe src=x>\n\nAfter: **server down**"
        )

        for user, url in (
            (alice, f"/tickets/{ticket.pk}/"),
            (AgentFactory(), f"/queue/tickets/{ticket.pk}/"),
        ):
            page = client_for(user).get(url).text
            assert "&lt;iframe src=x&gt;" in page
            assert "After: <strong>server down</strong>" in page

    def test_pages_show_the_text_rendered_when_it_was_written(self, client_for, alice, monkeypatch):
        ticket = make_ticket(requester=alice, description="Mail *stopped*")
        services.ticket_reply(ticket=ticket, author=AgentFactory(), body="Looking **now**.")

        def never(text):
            raise AssertionError("Markdown rendered on a page view")

        monkeypatch.setattr("tickets.markdown.render_markdown", never)
        monkeypatch.setattr("tickets.services.render_markdown", never)
        page = client_for(alice).get(f"/tickets/{ticket.pk}/").text

        assert "Mail <em>stopped</em>" in page
        assert "Looking <strong>now</strong>." in page

    def test_the_query_count_does_not_grow_with_the_conversation(
        self, client_for, alice, django_assert_max_num_queries
    ):
        ticket = make_ticket(requester=alice)
        agent = AgentFactory()
        client = client_for(alice)
        for number in range(12):
            services.ticket_reply(ticket=ticket, author=agent, body=f"Update {number}")

        with django_assert_max_num_queries(20):
            assert client.get(f"/tickets/{ticket.pk}/").status_code == 200


class TestActions:
    def test_reply_solve_and_reopen(self, client_for, alice):
        ticket = make_ticket(requester=alice)
        client = client_for(alice)

        client.post(f"/tickets/{ticket.pk}/reply/", {"body": "More details."})
        client.post(f"/tickets/{ticket.pk}/solve/")
        ticket.refresh_from_db()
        assert ticket.status == Status.SOLVED

        client.post(f"/tickets/{ticket.pk}/reopen/")
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN

    def test_an_empty_reply_is_an_error_not_a_500(self, client_for, alice):
        ticket = make_ticket(requester=alice)

        response = client_for(alice).post(f"/tickets/{ticket.pk}/reply/", {"body": "  "})

        assert response.status_code == 400
        assert "Write a reply before sending it." in response.text

    def test_a_reply_to_a_closed_ticket_is_refused_with_the_text_kept(self, client_for, alice):
        ticket = make_ticket(requester=alice)
        services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=AgentFactory())

        response = client_for(alice).post(f"/tickets/{ticket.pk}/reply/", {"body": "Hello?"})

        assert response.status_code == 400
        assert "cannot take replies" in response.text
        assert "Hello?" in response.text

    def test_a_vip_customer_escalates_with_a_reason(self, client_for, alice):
        ticket = make_ticket(requester=alice)
        client = client_for(alice)

        assert client.post(f"/tickets/{ticket.pk}/escalate/", {"reason": ""}).status_code == 400
        response = client.post(
            f"/tickets/{ticket.pk}/escalate/", {"reason": "Production is down."}, follow=True
        )

        escalation = Escalation.objects.get()
        assert (escalation.source, escalation.reason) == ("customer", "Production is down.")
        assert 'data-testid="senior-on-it"' in response.text

    def test_a_standard_customer_has_no_escalation(self, client_for, mallory):
        ticket = make_ticket(requester=mallory)
        client = client_for(mallory)

        assert "Escalate to a senior engineer" not in client.get(f"/tickets/{ticket.pk}/").text
        response = client.post(f"/tickets/{ticket.pk}/escalate/", {"reason": "Please"})
        assert response.status_code == 400
        assert "comes with the dedicated-agent add-on" in response.text
        assert not Escalation.objects.exists()


class TestTenantIsolation:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("get", "/tickets/{id}/"),
            ("post", "/tickets/{id}/reply/"),
            ("post", "/tickets/{id}/solve/"),
            ("post", "/tickets/{id}/reopen/"),
            ("get", "/tickets/{id}/escalate/"),
            ("post", "/tickets/{id}/escalate/"),
        ],
    )
    def test_another_companys_customer_gets_404(self, client_for, alice, mallory, method, path):
        ticket = make_ticket(requester=alice)
        client = client_for(mallory)

        response = getattr(client, method)(path.format(id=ticket.pk), {"body": "x", "reason": "x"})

        assert response.status_code == 404
        ticket.refresh_from_db()
        assert ticket.status == Status.NEW
        assert ticket.messages.count() == 0

    def test_a_forged_ticket_id_is_404(self, client_for, alice):
        assert client_for(alice).get("/tickets/999999/").status_code == 404

    def test_the_list_shows_only_the_own_company(self, client_for, alice, mallory):
        make_ticket(requester=alice, subject="Acme's secret outage")
        make_ticket(requester=mallory, subject="Globex printer")

        page = client_for(mallory).get("/tickets/").text

        assert "Globex printer" in page
        assert "Acme" not in page

    @pytest.mark.parametrize("path", ["/queue/", "/queue/tickets/1/", "/notifications/"])
    def test_customers_cannot_reach_staff_pages(self, client_for, alice, path):
        assert client_for(alice).get(path).status_code == 403


class TestList:
    def test_tabs_severity_and_search(self, client_for, alice):
        make_ticket(requester=alice, subject="Invoices wrong", severity=4)
        solved = make_ticket(requester=alice, subject="Password reset", severity=5)
        services.ticket_set_status(ticket=solved, status=Status.SOLVED, actor=alice)
        other = make_ticket(requester=alice, subject="Slow pages", severity=2)
        services.ticket_reply(ticket=other, author=alice, body="The invoice page is slow too")
        client = client_for(alice)

        open_page = client.get("/tickets/").text
        assert "Invoices wrong" in open_page
        assert "Password reset" not in open_page
        assert "Password reset" in client.get("/tickets/?tab=solved").text
        assert "Slow pages" not in client.get("/tickets/?severity=4").text
        searched = client.get("/tickets/?q=invoice").text
        assert "Invoices wrong" in searched
        assert "Slow pages" in searched

    def test_bad_query_values_are_ignored(self, client_for, alice):
        response = client_for(alice).get("/tickets/?tab=x&severity=abc&page=-3")

        assert response.status_code == 200
