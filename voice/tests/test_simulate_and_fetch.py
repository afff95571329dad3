"""`simulate_call` against a live portal, and the recording fetched from a real HTTP server."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import CustomerFactory, vip_company
from vipsupport.fetch import FetchError
from voice.models import Call, CallOutcome, Voicemail, VoicemailState
from voice.recordings import voicemail_fetch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(live_server, settings):
    """The live server as the provider sees it, serving the demo recording as a provider would."""
    settings.PORTAL_URL = live_server.url
    settings.VOICE_RECORDING_HOSTS = ["localhost", "127.0.0.1"]
    settings.VOICE_RECORDING_ALLOW_PRIVATE_HOSTS = True
    return live_server.url


def simulate(portal: str, number: str, *extra: str) -> str:
    out = StringIO()
    call_command("simulate_call", "--from", number, "--portal", portal, *extra, stdout=out)
    return out.getvalue()


def test_a_simulated_voicemail_becomes_a_ticket_whose_recording_is_fetched(portal):
    company = vip_company(name="Acme")
    caller = CustomerFactory(company=company, phone_number="+359881234567")

    output = simulate(portal, "+359 88 123 4567", "--seconds", "17")

    voicemail = Voicemail.objects.select_related("ticket", "call").get()
    assert voicemail.ticket.requester == caller
    assert voicemail.duration == 17
    assert voicemail.transcript.startswith("Hello, this is a test voicemail")
    assert "Voicemail left" in output

    assert voicemail_fetch(voicemail_id=voicemail.pk, now=timezone.now())

    voicemail.refresh_from_db()
    with voicemail.audio.open("rb") as stored:
        assert stored.read(4) == b"RIFF"
    assert voicemail.audio_type in {"audio/wav", "audio/x-wav"}


def test_an_unknown_caller_is_left_for_an_agent(portal):
    simulate(portal, "+14155550000")

    assert Voicemail.objects.get().state == VoicemailState.UNVERIFIED


def test_an_answered_call_is_only_logged(portal):
    company = vip_company(name="Acme")
    CustomerFactory(company=company, phone_number="+359881234567")
    from accounts import services as account_services
    from accounts.tests.factories import AgentFactory

    agent = AgentFactory()
    agent.agent_profile.phone_number = "+359887654321"
    agent.agent_profile.save()
    account_services.company_assign_agents(company=company, dedicated=agent)
    # Tuesday 10:00 at the desk: put through. The live server reads the same travelled clock.
    with time_machine.travel(datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)):
        output = simulate(portal, "+359881234567", "--agent-answers")

    assert "Put through to +359887654321" in output
    assert Call.objects.get().outcome == CallOutcome.ANSWERED
    assert not Voicemail.objects.exists()


def test_a_recording_is_fetched_only_from_the_providers_hosts(portal, settings):
    settings.VOICE_RECORDING_HOSTS = ["api.twilio.com"]
    simulate(portal, "+14155550000")
    voicemail = Voicemail.objects.get()

    with pytest.raises(FetchError):
        voicemail_fetch(voicemail_id=voicemail.pk, now=timezone.now())

    voicemail.refresh_from_db()
    assert not voicemail.audio
    assert voicemail.fetch_attempts == 1
    assert voicemail.fetch_error
