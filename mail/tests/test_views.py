"""The staff mail pages: the inbox, one e-mail, its raw download, accept and reject; the links
from a ticket's conversation to its e-mails; the admin."""

import datetime
import html
import re
from email.message import EmailMessage
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from accounts.tests.factories import UserFactory
from mail.models import InboundMail, InboundState, Transport
from mail.services import mail_ingest
from mail.tests.factories import mail_world, message
from tickets import services as ticket_services
from tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# A Tuesday, desk open (10:00 Berlin); the pages are looked at then.
OPEN = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _tuesday_morning():
    with time_machine.travel(OPEN, tick=False):
        yield


@pytest.fixture
def world():
    return mail_world(at=OPEN)


def ingest(raw: bytes, *, minutes_ago: int = 0) -> InboundMail:
    at = OPEN - datetime.timedelta(minutes=minutes_ago)
    return mail_ingest(raw=raw, received_at=at, transport=Transport.PIPE)


def stranger(
    *, to: str = "acme@vip.support.example", minutes_ago: int = 0, **kwargs
) -> InboundMail:
    """An e-mail from someone the portal does not know: it waits for an agent."""
    inbound = ingest(
        message(sender="Nora New <nora@acme.example>", to=to, **kwargs), minutes_ago=minutes_ago
    )
    assert inbound.state == InboundState.UNVERIFIED
    return inbound


def unreadable(*, minutes_ago: int = 0) -> InboundMail:
    inbound = ingest(b"\x00\x01 not an e-mail at all", minutes_ago=minutes_ago)
    assert inbound.state == InboundState.UNREADABLE
    return inbound


def url(inbound: InboundMail, action: str = "") -> str:
    return f"/queue/mail/{inbound.pk}/" + (f"{action}/" if action else "")


def ids_in(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-inbound-id="(\d+)"', page)]


def section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</section>", start)]


class TestInbox:
    def test_mail_waiting_for_an_agent_comes_first_oldest_first_then_the_recent_rest(
        self, client_for, world
    ):
        filed = ingest(message(subject="Known sender"), minutes_ago=300)
        newer = stranger(subject="Newer stranger", minutes_ago=10)
        older = stranger(subject="Older stranger", minutes_ago=200)
        broken = unreadable(minutes_ago=100)

        page = client_for(world.agent).get("/queue/mail/").text

        assert ids_in(section(page, "needing-agent")) == [older.pk, broken.pk, newer.pk]
        recent = section(page, "recent-mail")
        assert ids_in(recent) == [filed.pk]
        assert "Opened a ticket" in recent
        assert f'href="/queue/tickets/{filed.ticket_id}/"' in recent
        # Who wrote, to which of our addresses, in the viewer's zone.
        assert "Nora New" in page
        assert "nora@acme.example" in page
        assert "acme@vip.support.example" in page
        assert "Tue 10 Mar 09:50 CET" in page

    def test_the_number_of_queries_does_not_grow_with_the_mail(
        self, client_for, world, django_assert_max_num_queries
    ):
        client = client_for(world.agent)
        ingest(message(subject="Known sender"))
        stranger()
        with django_assert_max_num_queries(15) as few:
            assert client.get("/queue/mail/").status_code == 200
        for number in range(8):
            stranger(subject=f"Stranger {number}", minutes_ago=number + 1)
            ingest(message(subject=f"Known {number}"), minutes_ago=number + 1)
            unreadable(minutes_ago=number + 20)
            ingest(message(sender="bob@globex.example", to="support@support.example"))

        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get("/queue/mail/").status_code == 200

    def test_recent_shows_the_last_fifty(self, client_for, world):
        for number in range(52):
            ingest(message(subject=f"Known {number}"), minutes_ago=number)

        page = client_for(world.agent).get("/queue/mail/").text

        assert len(ids_in(section(page, "recent-mail"))) == 50

    def test_staff_see_a_mail_link_with_the_number_waiting(self, client_for, world):
        stranger()
        unreadable()

        page = client_for(world.agent).get("/queue/").text

        start = page.index('data-testid="mail-nav"')
        link = page[start : page.index("</a>", start)]
        assert "Mail" in link
        assert ">2</span>" in link

    def test_customers_have_no_mail_link(self, client_for, world):
        stranger()

        page = client_for(world.ivan).get("/").text

        assert 'data-testid="mail-nav"' not in page
        assert "/queue/mail/" not in page


class _Frames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))


def html_mail() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Nora New <nora@acme.example>"
    mail["To"] = "acme@vip.support.example"
    mail["Subject"] = "Styled <script>alert('subject')</script>"
    mail["Message-ID"] = "<styled@acme.example>"
    mail.set_content("Plain words <script>alert('text')</script> and a very long line " * 20)
    mail.add_alternative(
        "<p>Hello <b>there</b></p><script>alert('html')</script>"
        '<img src="https://tracker.example/pixel.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)">click</a>',
        subtype="html",
    )
    return mail.as_bytes()


class TestDetail:
    def test_the_html_part_shows_only_inside_a_sandboxed_frame(self, client_for, world):
        inbound = ingest(html_mail())

        page = client_for(world.agent).get(url(inbound)).text

        # Nothing the sender wrote runs or renders as markup on our page.
        assert "<script>alert" not in page
        assert "<b>there</b>" not in page
        assert "onerror" not in page
        assert "tracker.example" not in page
        assert "javascript:" not in page
        parser = _Frames()
        parser.feed(page)
        [frame] = parser.frames
        assert frame["sandbox"] in ("", None)  # no allow-scripts, no allow-same-origin
        assert "<b>there</b>" in (frame["srcdoc"] or "")
        assert "Content-Security-Policy" in (frame["srcdoc"] or "")
        # The whole text, escaped, in a wrapping <pre>.
        assert "Plain words &lt;script&gt;alert(&#x27;text&#x27;)&lt;/script&gt;" in page
        assert "white-space: pre-wrap" in page

    def test_headers_state_problem_and_the_raw_link(self, client_for, world):
        inbound = unreadable()

        page = client_for(world.agent).get(url(inbound)).text

        assert "Could not be read, waiting for an agent" in page
        assert html.escape(inbound.problem) in page
        assert html.escape(inbound.message_id) in page
        assert f'href="/queue/mail/{inbound.pk}/raw/"' in page
        # Unreadable mail can be rejected, not accepted (there is no sender to vouch for).
        assert 'data-testid="reject"' in page
        assert 'data-testid="accept"' not in page

    def test_an_unverified_mail_offers_accept_with_its_company_chosen(self, client_for, world):
        inbound = stranger()

        page = client_for(world.agent).get(url(inbound)).text

        assert 'data-testid="accept"' in page
        assert f'<option value="{world.acme.pk}" selected>Acme</option>' in page
        assert f'<option value="{world.globex.pk}">Globex</option>' in page
        assert 'data-testid="reject"' in page

    def test_mail_already_dealt_with_offers_neither(self, client_for, world):
        inbound = ingest(message())

        page = client_for(world.agent).get(url(inbound)).text

        assert 'data-testid="accept"' not in page
        assert 'data-testid="reject"' not in page

    @pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
    def test_an_unknown_id_is_not_found(self, client_for, world, pk):
        client = client_for(world.agent)

        assert client.get(f"/queue/mail/{pk}/").status_code == 404
        assert client.get(f"/queue/mail/{pk}/raw/").status_code == 404


class TestRaw:
    def test_the_download_is_the_message_exactly_as_ingested(self, client_for, world):
        raw = html_mail()
        inbound = ingest(raw)

        response = client_for(world.agent).get(url(inbound, "raw"))

        assert response.status_code == 200
        assert response["Content-Type"] == "message/rfc822"
        assert response["Content-Disposition"] == (
            f'attachment; filename="message-{inbound.pk}.eml"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == raw

    def test_even_an_unreadable_one(self, client_for, world):
        inbound = unreadable()

        response = client_for(world.agent).get(url(inbound, "raw"))

        assert b"".join(response.streaming_content) == b"\x00\x01 not an e-mail at all"


class TestAccept:
    def test_accepting_makes_the_sender_a_contact_and_files_the_ticket(self, client_for, world):
        inbound = stranger()

        response = client_for(world.agent).post(
            url(inbound, "accept"),
            {"company": str(world.acme.pk), "first_name": "Nora", "last_name": "New"},
        )

        inbound.refresh_from_db()
        assert inbound.state == InboundState.TICKET
        assert inbound.decided_by == world.agent
        assert response.status_code == 302
        assert response["Location"] == f"/queue/tickets/{inbound.ticket_id}/"
        nora = User.objects.get(email="nora@acme.example")
        assert (nora.company, nora.first_name, nora.last_name) == (world.acme, "Nora", "New")
        ticket = inbound.ticket
        assert (ticket.requester, ticket.channel) == (nora, Channel.EMAIL)
        assert ticket.created_at == OPEN

    def test_the_names_are_optional(self, client_for, world):
        inbound = stranger(to="support@support.example")

        response = client_for(world.agent).post(
            url(inbound, "accept"), {"company": str(world.globex.pk)}
        )

        assert response.status_code == 302
        assert User.objects.get(email="nora@acme.example").company == world.globex

    @pytest.mark.parametrize(
        "company", ["", "999999", "abc", "-1", "1.5", "99999999999999999999999", "١٢"]
    )
    def test_a_forged_or_missing_company_is_a_form_error_and_the_names_stay(
        self, client_for, world, company
    ):
        inbound = stranger()

        response = client_for(world.agent).post(
            url(inbound, "accept"),
            {"company": company, "first_name": "Nora", "last_name": "O'Neill"},
        )

        assert response.status_code == 400
        assert (
            "Choose a company from the list." in response.text
            or "Choose the company the sender belongs to." in response.text
        )
        assert 'value="Nora"' in response.text
        assert 'value="O&#x27;Neill"' in response.text
        inbound.refresh_from_db()
        assert inbound.state == InboundState.UNVERIFIED
        assert not User.objects.filter(email="nora@acme.example").exists()

    def test_accepting_twice_says_it_was_already_dealt_with(self, client_for, world):
        inbound = stranger()
        client = client_for(world.agent)
        data = {"company": str(world.acme.pk)}
        assert client.post(url(inbound, "accept"), data).status_code == 302

        again = client.post(url(inbound, "accept"), data)

        assert again.status_code == 400
        assert "This e-mail was already dealt with." in again.text
        assert Ticket.objects.filter(requester__email="nora@acme.example").count() == 1

    def test_a_sender_of_another_company_is_refused_with_the_reason(self, client_for, world):
        # Bob (Globex) wrote to Acme's address: not Acme's contact, so unverified.
        inbound = ingest(message(sender="bob@globex.example"))
        assert inbound.state == InboundState.UNVERIFIED

        response = client_for(world.agent).post(
            url(inbound, "accept"), {"company": str(world.acme.pk), "first_name": "Bobby"}
        )

        assert response.status_code == 400
        assert "bob@globex.example belongs to Globex" in response.text
        assert 'value="Bobby"' in response.text
        inbound.refresh_from_db()
        assert inbound.state == InboundState.UNVERIFIED

    def test_an_unreadable_mail_cannot_be_accepted(self, client_for, world):
        inbound = unreadable()

        response = client_for(world.agent).post(
            url(inbound, "accept"), {"company": str(world.acme.pk)}
        )

        assert response.status_code == 400
        assert "This e-mail was already dealt with." in response.text

    def test_get_is_not_allowed(self, client_for, world):
        inbound = stranger()

        assert client_for(world.agent).get(url(inbound, "accept")).status_code == 405


class TestReject:
    @pytest.mark.parametrize("make", [stranger, unreadable])
    def test_rejecting_keeps_the_mail_and_records_who(self, client_for, world, make):
        inbound = make()

        response = client_for(world.agent).post(url(inbound, "reject"))

        assert response.status_code == 302
        assert response["Location"] == "/queue/mail/"
        inbound.refresh_from_db()
        assert inbound.state == InboundState.REJECTED
        assert inbound.decided_by == world.agent
        assert inbound.raw.size > 0

    def test_rejecting_mail_already_dealt_with_says_so(self, client_for, world):
        inbound = ingest(message())

        response = client_for(world.agent).post(url(inbound, "reject"))

        assert response.status_code == 400
        assert "This e-mail was already dealt with." in response.text
        inbound.refresh_from_db()
        assert inbound.state == InboundState.TICKET


PAGES = [
    ("get", ""),
    ("get", "raw"),
    ("post", "accept"),
    ("post", "reject"),
]


class TestOnlyStaff:
    @pytest.mark.parametrize(("method", "action"), PAGES)
    def test_customers_are_refused_and_see_nothing(self, client_for, world, method, action):
        inbound = stranger(subject="Secret merger plans")
        client = client_for(world.ivan)

        response = getattr(client, method)(url(inbound, action), {"company": str(world.acme.pk)})

        assert response.status_code == 403
        assert b"Secret merger plans" not in response.content
        assert b"nora@acme.example" not in response.content
        inbound.refresh_from_db()
        assert inbound.state == InboundState.UNVERIFIED

    @pytest.mark.parametrize(("method", "action"), PAGES)
    def test_anonymous_visitors_are_sent_to_log_in(self, client, world, method, action):
        inbound = stranger(subject="Secret merger plans")

        response = getattr(client, method)(url(inbound, action), {"company": str(world.acme.pk)})

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        inbound.refresh_from_db()
        assert inbound.state == InboundState.UNVERIFIED

    def test_the_inbox_too(self, client, client_for, world):
        stranger(subject="Secret merger plans")

        assert client.get("/queue/mail/").status_code == 302
        response = client_for(world.ivan).get("/queue/mail/")
        assert response.status_code == 403
        assert b"Secret merger plans" not in response.content


class TestWorkspaceLinks:
    def test_the_description_and_mailed_replies_link_to_their_e_mails(self, client_for, world):
        opening = ingest(message(message_id="<first@acme.example>"))
        ticket = opening.ticket
        answer = ingest(message(subject="Re: the VPN", in_reply_to="<first@acme.example>"))
        assert answer.ticket == ticket
        typed = ticket_services.ticket_reply(ticket=ticket, author=world.ivan, body="From the web")

        page = client_for(world.agent).get(f"/queue/tickets/{ticket.pk}/").text

        assert page.count("E-mail: view the original") == 2
        assert f'href="/queue/mail/{opening.pk}/"' in page
        assert f'href="/queue/mail/{answer.pk}/"' in page
        web_reply = page[page.index(f'id="message-{typed.pk}"') :]
        assert "E-mail: view the original" not in web_reply[: web_reply.index("</article>")]

    def test_customers_never_see_the_links(self, client_for, world):
        ticket = ingest(message()).ticket

        page = client_for(world.ivan).get(f"/tickets/{ticket.pk}/").text

        assert "E-mail: view the original" not in page
        assert "/queue/mail/" not in page

    def test_the_links_cost_one_query_whatever_the_conversation(
        self, client_for, world, django_assert_max_num_queries
    ):
        client = client_for(world.agent)
        ticket = ingest(message(message_id="<start@acme.example>")).ticket
        ingest(message(subject="Re: first", in_reply_to="<start@acme.example>"))
        with django_assert_max_num_queries(60) as few:
            client.get(f"/queue/tickets/{ticket.pk}/")
        for number in range(5):
            ingest(message(subject=f"Re: {number}", in_reply_to="<start@acme.example>"))

        with django_assert_max_num_queries(len(few.captured_queries)):
            page = client.get(f"/queue/tickets/{ticket.pk}/").text
        assert page.count("E-mail: view the original") == 7


class TestAdmin:
    @pytest.fixture
    def admin_client(self, client_for):
        return client_for(UserFactory(is_superuser=True, is_staff=True))

    def test_received_mail_can_be_looked_up_but_not_added_changed_or_deleted(
        self, admin_client, world
    ):
        inbound = stranger(subject="Looked up")

        listing = admin_client.get("/admin/mail/inboundmail/", {"q": "Looked"})
        assert listing.status_code == 200
        assert "Looked up" in listing.text
        filtered = admin_client.get("/admin/mail/inboundmail/", {"state__exact": "unverified"})
        assert filtered.status_code == 200
        assert admin_client.get("/admin/mail/inboundmail/add/").status_code == 403
        change = admin_client.get(f"/admin/mail/inboundmail/{inbound.pk}/change/")
        assert change.status_code == 200
        assert f"/queue/mail/{inbound.pk}/raw/" in change.text
        assert 'name="_save"' not in change.text
        assert admin_client.get(f"/admin/mail/inboundmail/{inbound.pk}/delete/").status_code == 403
        assert InboundMail.objects.filter(pk=inbound.pk).exists()

    def test_imap_mailboxes_are_listed(self, admin_client):
        assert admin_client.get("/admin/mail/imapcursor/").status_code == 200
        assert admin_client.get("/admin/mail/imapcursor/add/").status_code == 403
