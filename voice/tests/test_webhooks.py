"""The support line's webhooks, signed as the provider signs them; the TwiML parsed and checked."""

import datetime
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from twilio.request_validator import RequestValidator

from accounts import services as account_services
from accounts.tests.factories import AgentFactory, CustomerFactory, SeniorFactory, vip_company
from sla.models import TargetKind
from tickets.models import Channel, TicketMessage
from voice.models import Call, CallOutcome, Voicemail, VoicemailState

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_TEN = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
FRIDAY_EVENING = datetime.datetime(2026, 3, 13, 18, 30, tzinfo=BERLIN)
IVAN = "+359881234567"
MARIA = "+359887654321"
GEORGI = "+359885550101"


@pytest.fixture
def line():
    """Acme (VIP): Maria dedicated, Georgi backup, both with phones; Ivan calls from his mobile."""
    with time_machine.travel(TUESDAY_TEN, tick=False):
        acme = vip_company(name="Acme")
        maria = AgentFactory(email="maria@support.example", first_name="Maria")
        georgi = SeniorFactory(email="georgi@support.example", first_name="Georgi")
        for agent, number in ((maria, MARIA), (georgi, GEORGI)):
            agent.agent_profile.phone_number = number
            agent.agent_profile.save()
        account_services.company_assign_agents(company=acme, dedicated=maria, backup=georgi)
        ivan = CustomerFactory(
            email="ivan@acme.example",
            company=acme,
            preferred_language="bg",
            phone_number=IVAN,
        )
    return {"acme": acme, "maria": maria, "georgi": georgi, "ivan": ivan}


def post(client, path: str, params: dict[str, str], *, signed: bool = True, query: str = ""):
    url = f"{path}?{query}" if query else path
    headers = {}
    if signed:
        token = settings.TWILIO_AUTH_TOKEN
        full = settings.PORTAL_URL.rstrip("/") + url
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(full, params)
    return client.post(url, params, **headers)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)  # noqa: S314 (our own response)


def call(client, at, *, sid="CA1", number=IVAN):
    with time_machine.travel(at, tick=False):
        params = {"CallSid": sid, "From": number, "To": "+35924001234"}
        return post(client, "/voice/incoming/", params)


class TestSignatures:
    def test_an_unsigned_request_is_refused_and_records_nothing(self, client, line):
        response = post(client, "/voice/incoming/", {"CallSid": "CA1", "From": IVAN}, signed=False)

        assert response.status_code == 403
        assert not Call.objects.exists()

    def test_a_forged_signature_is_refused(self, client, line):
        response = client.post(
            "/voice/incoming/",
            {"CallSid": "CA1", "From": IVAN},
            HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl",
        )

        assert response.status_code == 403

    def test_a_signature_of_other_parameters_is_refused(self, client, line):
        token = settings.TWILIO_AUTH_TOKEN
        signature = RequestValidator(token).compute_signature(
            settings.PORTAL_URL + "/voice/incoming/", {"CallSid": "CA1", "From": "+1555"}
        )

        response = client.post(
            "/voice/incoming/", {"CallSid": "CA1", "From": IVAN}, HTTP_X_TWILIO_SIGNATURE=signature
        )

        assert response.status_code == 403

    def test_without_a_token_every_request_is_refused(self, client, line, settings):
        settings.TWILIO_AUTH_TOKEN = ""

        response = client.post("/voice/incoming/", {"CallSid": "CA1", "From": IVAN})

        assert response.status_code == 403

    def test_a_get_is_not_a_webhook(self, client, line):
        assert client.get("/voice/incoming/").status_code == 405


class TestIncomingCalls:
    def test_in_hours_a_vip_caller_is_put_through_to_the_dedicated_agent(self, client, line):
        document = twiml(call(client, TUESDAY_TEN))

        say, dial = list(document)
        assert say.tag == "Say"
        assert say.get("language") == "bg-BG"  # Ivan speaks Bulgarian
        assert dial.tag == "Dial"
        assert dial.find("Number").text == MARIA
        assert int(dial.get("timeout")) == settings.VOICE_DIAL_TIMEOUT_SECONDS
        assert dial.get("action") == "/voice/dial-status/"
        recorded = Call.objects.get()
        assert (recorded.company, recorded.caller, recorded.agent) == (
            line["acme"],
            line["ivan"],
            line["maria"],
        )
        assert recorded.outcome == CallOutcome.RINGING

    def test_while_the_dedicated_agent_is_away_the_backup_takes_it(self, client, line):
        profile = line["maria"].agent_profile
        profile.away_until = TUESDAY_TEN + datetime.timedelta(days=3)
        profile.save()

        document = twiml(call(client, TUESDAY_TEN))

        assert document.find("Dial/Number").text == GEORGI

    def test_out_of_hours_the_caller_hears_when_we_open_and_leaves_a_voicemail(self, client, line):
        document = twiml(call(client, FRIDAY_EVENING))

        say, record = list(document)
        assert "понеделник 16 март" in say.text.lower()
        assert "09:00" in say.text
        assert "1" in say.text  # severity 1 in the portal
        assert record.tag == "Record"
        assert record.get("transcribe") == "true"
        assert int(record.get("maxLength")) == settings.VOICEMAIL_MAX_SECONDS
        assert record.get("recordingStatusCallback") == "/voice/recording/"
        assert record.get("transcribeCallback") == "/voice/transcription/"
        assert document.find("Dial") is None
        assert Call.objects.get().outcome == CallOutcome.VOICEMAIL

    def test_an_unknown_caller_leaves_a_voicemail_in_english(self, client, line):
        document = twiml(call(client, TUESDAY_TEN, number="+14155550000"))

        assert document.find("Dial") is None
        assert document.find("Record") is not None
        assert document.find("Say").get("language") == "en-GB"
        assert Call.objects.get().company is None

    def test_a_repeated_request_for_a_call_makes_no_second_row(self, client, line):
        first = call(client, TUESDAY_TEN).content
        again = call(client, TUESDAY_TEN).content

        assert first == again
        assert Call.objects.count() == 1

    def test_a_request_without_call_sid_is_a_clear_400(self, client, line):
        response = post(client, "/voice/incoming/", {"From": IVAN})

        assert response.status_code == 400


class TestDialOutcome:
    def test_no_answer_from_the_agent_sends_the_caller_to_voicemail(self, client, line):
        call(client, TUESDAY_TEN)

        with time_machine.travel(TUESDAY_TEN + datetime.timedelta(seconds=25), tick=False):
            response = post(
                client, "/voice/dial-status/", {"CallSid": "CA1", "DialCallStatus": "no-answer"}
            )

        document = twiml(response)
        assert document.find("Record") is not None
        assert Call.objects.get().outcome == CallOutcome.MISSED

    def test_an_answered_call_ends_when_the_agent_hangs_up(self, client, line):
        call(client, TUESDAY_TEN)

        with time_machine.travel(TUESDAY_TEN + datetime.timedelta(minutes=7), tick=False):
            response = post(
                client, "/voice/dial-status/", {"CallSid": "CA1", "DialCallStatus": "completed"}
            )

        assert twiml(response).find("Hangup") is not None
        answered = Call.objects.get()
        assert answered.outcome == CallOutcome.ANSWERED
        assert answered.ended_at == TUESDAY_TEN + datetime.timedelta(minutes=7)

    def test_an_unknown_call_is_404(self, client, line):
        response = post(client, "/voice/dial-status/", {"CallSid": "CA404"})

        assert response.status_code == 404


def record(client, at, *, sid="RE1", call_sid="CA1", duration="42"):
    with time_machine.travel(at, tick=False):
        return post(
            client,
            "/voice/recording/",
            {
                "CallSid": call_sid,
                "RecordingSid": sid,
                "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/ACx/Recordings/{sid}",
                "RecordingDuration": duration,
                "RecordingStatus": "completed",
            },
        )


class TestVoicemail:
    def test_friday_evening_voicemail_opens_a_ticket_with_a_callback_due_monday_ten(
        self, client, line
    ):
        call(client, FRIDAY_EVENING)

        response = record(client, FRIDAY_EVENING + datetime.timedelta(minutes=1))

        assert response.status_code == 204
        voicemail = Voicemail.objects.get()
        assert voicemail.state == VoicemailState.TICKET
        assert voicemail.duration == 42
        ticket = voicemail.ticket
        assert ticket.channel == Channel.VOICEMAIL
        assert ticket.requester == line["ivan"]
        assert ticket.assignee == line["maria"]
        assert ticket.created_at == FRIDAY_EVENING
        monday = datetime.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)
        callback = ticket.sla_targets.get(kind=TargetKind.CALLBACK)
        assert callback.started_at == monday
        assert callback.due_at == monday + datetime.timedelta(hours=1)
        ticket.refresh_from_db()
        assert ticket.sla_due_at == monday + datetime.timedelta(hours=1)  # the queue's deadline
        assert IVAN in ticket.subject

    def test_the_provider_repeating_the_callback_makes_one_ticket(self, client, line):
        call(client, FRIDAY_EVENING)

        record(client, FRIDAY_EVENING)
        record(client, FRIDAY_EVENING)

        assert Voicemail.objects.count() == 1
        assert line["acme"].tickets.count() == 1

    def test_an_unknown_callers_voicemail_waits_for_an_agent(self, client, line):
        call(client, FRIDAY_EVENING, number="+14155550000")

        record(client, FRIDAY_EVENING)

        voicemail = Voicemail.objects.get()
        assert voicemail.state == VoicemailState.UNVERIFIED
        assert voicemail.ticket is None

    def test_the_transcript_is_kept_and_shown_to_staff(self, client, line):
        call(client, FRIDAY_EVENING)
        record(client, FRIDAY_EVENING)

        with time_machine.travel(FRIDAY_EVENING + datetime.timedelta(minutes=2), tick=False):
            response = post(
                client,
                "/voice/transcription/",
                {
                    "CallSid": "CA1",
                    "RecordingSid": "RE1",
                    "TranscriptionText": "Сървърът за поща не работи.",
                    "TranscriptionStatus": "completed",
                },
            )

        assert response.status_code == 204
        voicemail = Voicemail.objects.get()
        assert voicemail.transcript == "Сървърът за поща не работи."
        note = TicketMessage.objects.get(ticket=voicemail.ticket, is_automatic=True)
        assert "Сървърът за поща не работи." in note.body
        assert note.visibility == "internal"

    def test_after_the_message_the_caller_is_thanked(self, client, line):
        response = post(client, "/voice/recorded/", {"CallSid": "CA1"}, query="language=bg")

        document = twiml(response)
        assert document.find("Say").get("language") == "bg-BG"
        assert document.find("Hangup") is not None
