"""The phone channel's staff pages: the voicemail panel, the callback box and the calls card in the
workspace; the recordings' player source and who may hear one; the unverified voicemails and
filing them; the nav link; the admin."""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile

from accounts import services as account_services
from accounts.models import Company, User
from accounts.tests.factories import (
    AgentFactory,
    CompanyFactory,
    CustomerFactory,
    UserFactory,
    vip_company,
)
from sla.models import TargetKind, TargetState
from tickets.models import Channel, EventKind, Status, Ticket
from tickets.tests.factories import make_ticket
from voice.models import Call, CallOutcome, Voicemail, VoicemailState

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# A Tuesday, desk open (10:00 Berlin); the pages are looked at then.
OPEN = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00 not really an mp3, but bytes to compare"
IVAN_NUMBER = "+35924001234"

_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def _tuesday_morning():
    with time_machine.travel(OPEN, tick=False):
        yield


@dataclass(frozen=True)
class World:
    acme: Company
    globex: Company
    ivan: User  # Acme
    bob: User  # Globex
    agent: User


@pytest.fixture
def world() -> World:
    acme = vip_company(name="Acme")
    globex = CompanyFactory(name="Globex")
    agent = AgentFactory(
        email="maria@support.example",
        first_name="Maria",
        last_name="Ivanova",
        time_zone="Europe/Sofia",
    )
    account_services.company_assign_agents(company=acme, dedicated=agent, now=OPEN)
    ivan = CustomerFactory(
        email="ivan@acme.example",
        first_name="Ivan",
        last_name="Petrov",
        company=acme,
        phone_number=IVAN_NUMBER,
    )
    bob = CustomerFactory(email="bob@globex.example", first_name="Bob", company=globex)
    return World(acme, globex, ivan, bob, agent)


def make_call(
    *,
    number: str = IVAN_NUMBER,
    company: Company | None = None,
    caller: User | None = None,
    agent: User | None = None,
    outcome: str = CallOutcome.VOICEMAIL,
    at: datetime.datetime = OPEN,
) -> Call:
    return Call.objects.create(
        call_sid=f"CA{next(_sids):032d}",
        from_number=number,
        to_number="+35929000000",
        company=company,
        caller=caller,
        agent=agent,
        outcome=outcome,
        started_at=at,
    )


def make_voicemail(
    *,
    call: Call,
    ticket: Ticket | None = None,
    duration: int = 65,
    transcript: str = "",
    audio: bytes | None = AUDIO,
    audio_type: str = "audio/mpeg",
    fetch_error: str = "",
) -> Voicemail:
    voicemail = Voicemail.objects.create(
        recording_sid=f"RE{next(_sids):032d}",
        call=call,
        state=VoicemailState.TICKET if ticket else VoicemailState.UNVERIFIED,
        ticket=ticket,
        duration=duration,
        transcript=transcript,
        recording_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        received_at=call.started_at,
        fetch_attempts=1 if fetch_error else 0,
        fetch_error=fetch_error,
    )
    if audio is not None:
        voicemail.audio.save("x", ContentFile(audio), save=False)
        voicemail.audio_type = audio_type
        voicemail.save(update_fields=["audio", "audio_type"])
    return voicemail


def voicemail_ticket(world: World, **kwargs) -> tuple[Ticket, Voicemail]:
    """Ivan's voicemail and the ticket it opened."""
    ticket = make_ticket(
        requester=world.ivan,
        channel=Channel.VOICEMAIL,
        at=OPEN,
        subject=f"Voicemail from {IVAN_NUMBER}",
    )
    call = make_call(company=world.acme, caller=world.ivan)
    return ticket, make_voicemail(call=call, ticket=ticket, **kwargs)


def stranger_voicemail(*, minutes_ago: int = 0, number: str = "+4915112345678", **kwargs):
    call = make_call(number=number, at=OPEN - datetime.timedelta(minutes=minutes_ago))
    return make_voicemail(call=call, **kwargs)


def work(ticket: Ticket, action: str = "") -> str:
    return f"/queue/tickets/{ticket.pk}/" + (f"{action}/" if action else "")


def audio_url(voicemail: Voicemail) -> str:
    return f"/queue/voicemail/{voicemail.pk}/audio/"


def file_url(voicemail: Voicemail) -> str:
    return f"/queue/voicemail/{voicemail.pk}/file/"


def section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</section>", start)]


def voicemail_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-voicemail-id="(\d+)"', page)]


class TestVoicemailPanel:
    def test_the_panel_shows_the_number_to_dial_length_time_transcript_and_player(
        self, client_for, world
    ):
        ticket, voicemail = voicemail_ticket(
            world, transcript="Please call me back about the <VPN>."
        )

        page = client_for(world.agent).get(work(ticket)).text

        panel = section(page, "voicemail-panel")
        assert f'href="tel:{IVAN_NUMBER}"' in panel
        assert ">+359 2 400 1234</a>" in panel
        assert "1:05" in panel
        # When it was left, in the viewer's zone (Maria is in Sofia).
        assert "Tue 10 Mar 2026 11:00 EET" in panel
        assert "Please call me back about the &lt;VPN&gt;." in panel
        assert (
            f'<audio controls preload="none" src="/queue/voicemail/{voicemail.pk}/audio/"' in panel
        )
        assert 'data-testid="recording-pending"' not in panel

    def test_before_the_recording_is_fetched_the_panel_says_so_with_the_last_error(
        self, client_for, world
    ):
        ticket, _voicemail = voicemail_ticket(
            world, audio=None, fetch_error="HTTP 503 from api.twilio.com"
        )

        page = client_for(world.agent).get(work(ticket)).text

        panel = section(page, "voicemail-panel")
        assert "<audio" not in panel
        assert "The recording is being fetched." in panel
        assert "HTTP 503 from api.twilio.com" in panel
        assert "No transcript." in panel

    def test_a_number_that_is_no_phone_number_is_shown_without_a_link(self, client_for, world):
        ticket = make_ticket(requester=world.ivan, channel=Channel.VOICEMAIL, at=OPEN)
        make_voicemail(call=make_call(number="Anonymous"), ticket=ticket)

        page = client_for(world.agent).get(work(ticket)).text

        panel = section(page, "voicemail-panel")
        assert "Anonymous" in panel
        assert "tel:" not in panel

    def test_other_tickets_have_no_panel_and_no_callback_box(self, client_for, world):
        ticket = make_ticket(requester=world.ivan, channel=Channel.WEB, at=OPEN)

        page = client_for(world.agent).get(work(ticket)).text

        assert 'data-testid="voicemail-panel"' not in page
        assert 'data-testid="callback"' not in page

    def test_a_phone_ticket_offers_a_callback_to_the_customers_own_number(self, client_for, world):
        ticket = make_ticket(requester=world.ivan, channel=Channel.PHONE, at=OPEN)

        page = client_for(world.agent).get(work(ticket)).text

        assert 'data-testid="voicemail-panel"' not in page
        box = section(page, "callback")
        assert f'href="tel:{IVAN_NUMBER}"' in box
        assert f'action="/queue/tickets/{ticket.pk}/callback/"' in box

    def test_customers_see_no_panel_on_their_ticket(self, client_for, world):
        ticket, _voicemail = voicemail_ticket(world, transcript="Call me")

        page = client_for(world.ivan).get(f"/tickets/{ticket.pk}/").text

        assert "/queue/voicemail/" not in page
        assert 'data-testid="voicemail-panel"' not in page
        assert 'data-testid="callback"' not in page


class TestCallback:
    def test_reaching_the_customer_meets_the_callback_and_answers_the_ticket(
        self, client_for, world
    ):
        ticket, _voicemail = voicemail_ticket(world)
        assert ticket.sla_targets.get(kind=TargetKind.CALLBACK).state == TargetState.ACTIVE

        response = client_for(world.agent).post(
            work(ticket, "callback"), {"reached": "yes", "note": "Reset the VPN profile."}
        )

        assert response.status_code == 302
        assert response["Location"] == work(ticket)
        callback = ticket.sla_targets.get(kind="callback")
        assert callback.state == "fulfilled"
        assert callback.fulfilled_at == OPEN
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        event = ticket.events.get(kind=EventKind.CALLED_BACK)
        assert event.actor == world.agent
        page = client_for(world.agent).get(work(ticket)).text
        assert "Callback recorded: the customer was reached." in page
        assert "Reset the VPN profile." in page

    def test_a_failed_attempt_needs_a_note(self, client_for, world):
        ticket, _voicemail = voicemail_ticket(world)

        response = client_for(world.agent).post(
            work(ticket, "callback"), {"reached": "no", "note": "  "}
        )

        assert response.status_code == 400
        failed = section(response.text, "callback")
        assert "Say what happened: no answer, busy, wrong number…" in failed
        assert not ticket.events.filter(kind=EventKind.CALLBACK_FAILED).exists()
        assert ticket.sla_targets.get(kind="callback").state == TargetState.ACTIVE

    def test_a_failed_attempt_with_a_note_is_on_the_timeline_and_the_callback_runs_on(
        self, client_for, world
    ):
        ticket, _voicemail = voicemail_ticket(world)

        response = client_for(world.agent).post(
            work(ticket, "callback"), {"reached": "no", "note": "Voicemail box full."}
        )

        assert response.status_code == 302
        event = ticket.events.get(kind=EventKind.CALLBACK_FAILED)
        assert event.detail == "Voicemail box full."
        assert ticket.sla_targets.get(kind="callback").state == TargetState.ACTIVE
        page = client_for(world.agent).get(work(ticket)).text
        assert "The failed callback attempt was recorded." in page
        assert "Callback attempt failed" in page

    def test_a_forged_answer_is_a_form_error_and_the_note_stays(self, client_for, world):
        ticket, _voicemail = voicemail_ticket(world)

        response = client_for(world.agent).post(
            work(ticket, "callback"), {"reached": "maybe", "note": "Rang <twice>"}
        )

        assert response.status_code == 400
        assert "Say whether you reached the customer." in response.text
        assert "Rang &lt;twice&gt;</textarea>" in response.text
        assert not ticket.events.filter(
            kind__in=[EventKind.CALLED_BACK, EventKind.CALLBACK_FAILED]
        ).exists()

    def test_a_closed_ticket_refuses_with_the_reason(self, client_for, world):
        ticket, _voicemail = voicemail_ticket(world)
        client = client_for(world.agent)
        client.post(work(ticket, "status"), {"status": "closed"})

        response = client.post(work(ticket, "callback"), {"reached": "yes"})

        assert response.status_code == 400
        assert "This ticket is closed." in response.text

    def test_only_staff_and_only_post(self, client, client_for, world):
        ticket, _voicemail = voicemail_ticket(world)

        assert client.post(work(ticket, "callback"), {"reached": "yes"}).status_code == 302
        assert (
            client_for(world.ivan).post(work(ticket, "callback"), {"reached": "yes"}).status_code
            == 403
        )
        assert client_for(world.agent).get(work(ticket, "callback")).status_code == 405
        assert ticket.sla_targets.get(kind="callback").state == TargetState.ACTIVE


class TestCallsCard:
    def test_the_companys_last_ten_calls_with_time_number_outcome_and_agent(
        self, client_for, world
    ):
        ticket = make_ticket(requester=world.ivan, at=OPEN)
        calls = [
            make_call(
                company=world.acme,
                agent=world.agent,
                outcome=CallOutcome.ANSWERED,
                at=OPEN - datetime.timedelta(hours=number + 1),
            )
            for number in range(11)
        ]
        make_call(number="+4930123456", company=world.globex)

        page = client_for(world.agent).get(work(ticket)).text

        card = section(page, "company-calls")
        shown = [int(pk) for pk in re.findall(r'data-call-id="(\d+)"', card)]
        assert shown == [call.pk for call in calls[:10]]
        assert "Answered" in card
        assert "Maria Ivanova" in card
        assert f'href="tel:{IVAN_NUMBER}"' in card
        assert "10 Mar 10:00 EET" in card  # an hour before OPEN, in Sofia
        assert "+4930123456" not in card

    def test_no_card_for_a_company_that_never_called(self, client_for, world):
        ticket = make_ticket(requester=world.ivan, at=OPEN)

        page = client_for(world.agent).get(work(ticket)).text

        assert 'data-testid="company-calls"' not in page

    def test_the_workspace_queries_do_not_grow_with_calls(
        self, client_for, world, django_assert_max_num_queries
    ):
        ticket, _voicemail = voicemail_ticket(world, transcript="Hello")
        client = client_for(world.agent)
        make_call(company=world.acme, agent=world.agent, outcome=CallOutcome.ANSWERED)
        with django_assert_max_num_queries(60) as few:
            assert client.get(work(ticket)).status_code == 200
        for number in range(12):
            agent = AgentFactory()
            make_call(company=world.acme, agent=agent, caller=world.ivan, outcome="answered")
            make_call(number=f"+3592400{number:04d}", company=world.acme, outcome="missed")

        with django_assert_max_num_queries(len(few.captured_queries)):
            page = client.get(work(ticket)).text
        assert len(re.findall(r"data-call-id=", page)) == 10


class TestAudio:
    def test_staff_hear_any_recording_inline_exactly_as_stored(self, client_for, world):
        _ticket, voicemail = voicemail_ticket(world)

        response = client_for(world.agent).get(audio_url(voicemail))

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == AUDIO
        assert response["Content-Type"] == "audio/mpeg"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert "no-cache" in response["Cache-Control"]
        assert "private" in response["Cache-Control"] or "no-store" in response["Cache-Control"]

    def test_an_unverified_voicemail_too(self, client_for, world):
        voicemail = stranger_voicemail(audio_type="audio/wav")

        response = client_for(world.agent).get(audio_url(voicemail))

        assert response.status_code == 200
        assert response["Content-Type"] == "audio/wav"
        assert b"".join(response.streaming_content) == AUDIO

    def test_even_the_callers_own_company_gets_not_found(self, client_for, world):
        """Recordings are played back to staff only."""
        _ticket, voicemail = voicemail_ticket(world)
        colleague = CustomerFactory(company=world.acme)

        response = client_for(colleague).get(audio_url(voicemail))

        assert response.status_code == 404
        assert AUDIO not in response.content

    def test_a_customer_of_another_company_gets_not_found(self, client_for, world):
        _ticket, voicemail = voicemail_ticket(world)

        response = client_for(world.bob).get(audio_url(voicemail))

        assert response.status_code == 404
        assert AUDIO not in response.content

    def test_a_customer_never_hears_an_unverified_one(self, client_for, world):
        voicemail = stranger_voicemail()

        assert client_for(world.ivan).get(audio_url(voicemail)).status_code == 404

    def test_an_account_with_no_role_gets_not_found(self, client_for, world):
        _ticket, voicemail = voicemail_ticket(world)

        assert client_for(UserFactory()).get(audio_url(voicemail)).status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(self, client, world):
        _ticket, voicemail = voicemail_ticket(world)

        response = client.get(audio_url(voicemail))

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_not_found_before_it_is_fetched(self, client_for, world):
        _ticket, voicemail = voicemail_ticket(world, audio=None)

        assert client_for(world.agent).get(audio_url(voicemail)).status_code == 404

    @pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
    def test_an_unknown_id_is_not_found(self, client_for, world, pk):
        assert client_for(world.agent).get(f"/queue/voicemail/{pk}/audio/").status_code == 404

    def test_only_reading(self, client_for, world):
        _ticket, voicemail = voicemail_ticket(world)

        assert client_for(world.agent).post(audio_url(voicemail)).status_code == 405


class TestUnverified:
    def test_voicemails_from_unknown_numbers_oldest_first_with_all_an_agent_needs(
        self, client_for, world
    ):
        newer = stranger_voicemail(minutes_ago=5, transcript="Hi, it's Nora from Acme.")
        older = stranger_voicemail(minutes_ago=90, number="+4930555000", audio=None)
        voicemail_ticket(world)  # known: it opened a ticket

        page = client_for(world.agent).get("/queue/voicemail/").text

        assert voicemail_ids(page) == [older.pk, newer.pk]
        first = section(page, "unverified-voicemail")
        assert 'href="tel:+4930555000"' in first
        assert "The recording is being fetched." in first
        newer_card = page[page.index(f'data-voicemail-id="{newer.pk}"') :]
        assert 'href="tel:+4915112345678"' in newer_card
        assert "Hi, it&#x27;s Nora from Acme." in newer_card
        assert f'src="/queue/voicemail/{newer.pk}/audio/"' in newer_card
        assert "Tue 10 Mar 2026 10:55 EET" in newer_card
        assert "1:05" in newer_card
        # Every active customer to file it for, and no one else.
        assert (
            f'<option value="{world.ivan.pk}">Ivan Petrov &lt;ivan@acme.example&gt; · Acme</option>'
            in newer_card
        )
        assert f'<option value="{world.bob.pk}">' in newer_card
        assert f'<option value="{world.agent.pk}">' not in newer_card

    def test_nothing_waiting(self, client_for, world):
        voicemail_ticket(world)

        page = client_for(world.agent).get("/queue/voicemail/").text

        assert 'data-testid="no-voicemail"' in page
        assert voicemail_ids(page) == []

    def test_filing_opens_the_customers_ticket_dated_when_they_called(self, client_for, world):
        voicemail = stranger_voicemail(minutes_ago=30)

        response = client_for(world.agent).post(
            file_url(voicemail), {"requester": str(world.ivan.pk)}
        )

        voicemail.refresh_from_db()
        assert voicemail.state == VoicemailState.TICKET
        assert response.status_code == 302
        assert response["Location"] == f"/queue/tickets/{voicemail.ticket_id}/"
        ticket = voicemail.ticket
        assert (ticket.requester, ticket.channel) == (world.ivan, Channel.VOICEMAIL)
        assert ticket.created_at == OPEN - datetime.timedelta(minutes=30)
        assert ticket.sla_targets.filter(kind=TargetKind.CALLBACK).exists()
        voicemail.call.refresh_from_db()
        assert (voicemail.call.company, voicemail.call.caller) == (world.acme, world.ivan)
        page = client_for(world.agent).get(response["Location"]).text
        assert "The voicemail is filed for Ivan Petrov as ticket" in page
        assert 'data-testid="voicemail-panel"' in page

    @pytest.mark.parametrize("requester", ["", "999999", "abc", "-1", "99999999999999999999999"])
    def test_a_forged_or_missing_customer_is_a_form_error(self, client_for, world, requester):
        voicemail = stranger_voicemail()

        response = client_for(world.agent).post(file_url(voicemail), {"requester": requester})

        assert response.status_code == 400
        card = section(response.text, "unverified-voicemail")
        assert (
            "Choose a customer from the list." in card
            or "Choose the customer who left the voicemail." in card
        )
        voicemail.refresh_from_db()
        assert voicemail.state == VoicemailState.UNVERIFIED

    def test_staff_and_inactive_customers_cannot_be_chosen(self, client_for, world):
        voicemail = stranger_voicemail()
        gone = CustomerFactory(company=world.acme, is_active=False)
        client = client_for(world.agent)

        for person in (world.agent, gone):
            response = client.post(file_url(voicemail), {"requester": str(person.pk)})
            assert response.status_code == 400
            assert "Choose a customer from the list." in response.text

        voicemail.refresh_from_db()
        assert voicemail.state == VoicemailState.UNVERIFIED

    def test_the_error_stays_on_its_voicemail_with_the_choice_kept(self, client_for, world):
        stranger_voicemail(minutes_ago=10)
        voicemail = stranger_voicemail(minutes_ago=5)

        response = client_for(world.agent).post(file_url(voicemail), {"requester": "abc"})

        assert response.status_code == 400
        cards = response.text.split('data-testid="unverified-voicemail"')[1:]
        assert "Choose a customer from the list." not in cards[0]
        assert "Choose a customer from the list." in cards[1]

    def test_filing_twice_says_it_was_already_filed(self, client_for, world):
        voicemail = stranger_voicemail()
        client = client_for(world.agent)
        data = {"requester": str(world.ivan.pk)}
        assert client.post(file_url(voicemail), data).status_code == 302

        again = client.post(file_url(voicemail), data)

        assert again.status_code == 400
        assert "This voicemail was already filed." in section(again.text, "file-error")
        assert Ticket.objects.filter(channel=Channel.VOICEMAIL).count() == 1

    def test_an_unknown_voicemail_is_not_found(self, client_for, world):
        client = client_for(world.agent)
        data = {"requester": str(world.ivan.pk)}

        assert client.post("/queue/voicemail/999999/file/", data).status_code == 404
        assert client.post("/queue/voicemail/99999999999999999999/file/", data).status_code == 404

    def test_get_is_not_allowed_for_filing(self, client_for, world):
        voicemail = stranger_voicemail()

        assert client_for(world.agent).get(file_url(voicemail)).status_code == 405

    def test_the_number_of_queries_does_not_grow_with_the_voicemails(
        self, client_for, world, django_assert_max_num_queries
    ):
        client = client_for(world.agent)
        stranger_voicemail(transcript="One")
        with django_assert_max_num_queries(15) as few:
            assert client.get("/queue/voicemail/").status_code == 200
        for number in range(8):
            stranger_voicemail(minutes_ago=number + 1, number=f"+4930555{number:04d}")
            stranger_voicemail(minutes_ago=number + 20, audio=None, fetch_error="timeout")
            CustomerFactory(company=world.globex)
            voicemail_ticket(world)

        with django_assert_max_num_queries(len(few.captured_queries)):
            page = client.get("/queue/voicemail/").text
        assert len(voicemail_ids(page)) == 17


class TestOnlyStaff:
    def test_customers_are_refused_and_see_nothing(self, client_for, world):
        voicemail = stranger_voicemail(transcript="Secret merger plans")
        client = client_for(world.ivan)

        listing = client.get("/queue/voicemail/")
        filing = client.post(file_url(voicemail), {"requester": str(world.ivan.pk)})

        assert (listing.status_code, filing.status_code) == (403, 403)
        assert b"Secret merger plans" not in listing.content
        voicemail.refresh_from_db()
        assert voicemail.state == VoicemailState.UNVERIFIED

    def test_anonymous_visitors_are_sent_to_log_in(self, client, world):
        voicemail = stranger_voicemail()

        for response in (
            client.get("/queue/voicemail/"),
            client.post(file_url(voicemail), {"requester": str(world.ivan.pk)}),
        ):
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")
        voicemail.refresh_from_db()
        assert voicemail.state == VoicemailState.UNVERIFIED


class TestNav:
    def test_staff_see_a_voicemail_link_with_the_number_waiting(self, client_for, world):
        stranger_voicemail()
        stranger_voicemail(number="+4930555000")
        voicemail_ticket(world)

        page = client_for(world.agent).get("/queue/").text

        start = page.index('data-testid="voice-nav"')
        link = page[page.rindex("<a", 0, start) : page.index("</a>", start)]
        assert 'href="/queue/voicemail/"' in link
        assert "Voicemail" in link
        assert ">2</span>" in link

    def test_on_the_voicemail_page_the_link_is_the_current_one(self, client_for, world):
        page = client_for(world.agent).get("/queue/voicemail/").text

        start = page.index('data-testid="voice-nav"')
        assert 'aria-current="page"' in page[page.rindex("<a", 0, start) : start]
        assert page.count('aria-current="page"') == 1

    def test_the_link_costs_one_query(self, rf, world, django_assert_num_queries):
        from django.template import Context, Template

        request = rf.get("/queue/")
        request.user = world.agent
        world.agent.role  # noqa: B018 - the role is read (and cached) by every staff page anyway
        template = Template("{% load voice_tags %}{% voice_nav as link %}{{ link.waiting }}")
        with django_assert_num_queries(1):
            assert template.render(Context({"request": request})) == "0"

    def test_customers_have_no_voicemail_link(self, client_for, world):
        stranger_voicemail()

        page = client_for(world.ivan).get("/").text

        assert 'data-testid="voice-nav"' not in page
        assert "/queue/voicemail/" not in page


class TestAdmin:
    @pytest.fixture
    def admin_client(self, client_for):
        return client_for(UserFactory(is_superuser=True, is_staff=True))

    def test_calls_and_voicemails_can_be_looked_up_but_not_added_changed_or_deleted(
        self, admin_client, world
    ):
        _ticket, voicemail = voicemail_ticket(world, transcript="Looked up")
        call = voicemail.call

        for model, obj, query in (("call", call, IVAN_NUMBER), ("voicemail", voicemail, "Looked")):
            listing = admin_client.get(f"/admin/voice/{model}/", {"q": query})
            assert listing.status_code == 200
            assert "+35924001234" in listing.text
            assert admin_client.get(f"/admin/voice/{model}/add/").status_code == 403
            change = admin_client.get(f"/admin/voice/{model}/{obj.pk}/change/")
            assert change.status_code == 200
            assert 'name="_save"' not in change.text
            assert admin_client.get(f"/admin/voice/{model}/{obj.pk}/delete/").status_code == 403
        filtered = admin_client.get("/admin/voice/voicemail/", {"state__exact": "ticket"})
        assert filtered.status_code == 200
        filtered = admin_client.get("/admin/voice/call/", {"outcome__exact": "voicemail"})
        assert filtered.status_code == 200
        change = admin_client.get(f"/admin/voice/voicemail/{voicemail.pk}/change/")
        assert f'src="/queue/voicemail/{voicemail.pk}/audio/"' in change.text
        assert Voicemail.objects.filter(pk=voicemail.pk).exists()
