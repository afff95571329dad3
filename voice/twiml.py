"""The support line's answers in TwiML (the format Twilio and several other providers speak),
built with the twilio library, spoken in the caller's language."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Dial, VoiceResponse

from desk.selectors import desk_zone
from voice.services import CallPlan

# Text-to-speech voices by the portal's languages.
SPEECH_LANGUAGES = {"en": "en-GB", "bg": "bg-BG"}


def _say(response: VoiceResponse, text: str, language: str) -> None:
    response.say(text, language=SPEECH_LANGUAGES.get(language, "en-GB"))


def call_answer(plan: CallPlan) -> str:
    """Put the caller through to their agent, or take a voicemail."""
    response = VoiceResponse()
    with translation.override(plan.language):
        if plan.put_through:
            _say(
                response,
                _("Hello, this is VIP Support. We are putting you through to your agent."),
                plan.language,
            )
            dial = Dial(
                timeout=settings.VOICE_DIAL_TIMEOUT_SECONDS,
                action=reverse("voice:dial-status"),
                answer_on_bridge=True,
            )
            dial.number(plan.agent_number)
            response.append(dial)
            return str(response)
        _say(response, _greeting(plan), plan.language)
    _record(response, plan.language)
    return str(response)


def missed_answer(plan: CallPlan) -> str:
    """The agent did not pick up: a voicemail instead."""
    response = VoiceResponse()
    with translation.override(plan.language):
        _say(
            response,
            _(
                "Your agent cannot take the call right now. Please leave a message after the "
                "tone, and we will call you back shortly."
            ),
            plan.language,
        )
    _record(response, plan.language)
    return str(response)


def answered_answer() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def recorded_answer(language: str) -> str:
    response = VoiceResponse()
    with translation.override(language):
        _say(response, _("Thank you. We will call you back. Goodbye."), language)
    response.hangup()
    return str(response)


def _greeting(plan: CallPlan) -> str:
    if plan.next_opening is None:
        return _(
            "Hello, this is VIP Support. Please leave a message after the tone, with your name, "
            "your company and the number to call you back on."
        )
    opening = plan.next_opening.astimezone(desk_zone())
    return _(
        "Hello, this is VIP Support. Our support desk is closed now and opens again on "
        "%(day)s at %(time)s, Central European Time. If one of our services is down, open a "
        "severity 1 ticket in the portal: it is watched around the clock. Please leave a "
        "message after the tone, and we will call you back as soon as we open."
    ) % {"day": dateformat.format(opening, "l j F"), "time": dateformat.format(opening, "H:i")}


def _record(response: VoiceResponse, language: str) -> None:
    response.record(
        max_length=settings.VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        transcribe=True,
        transcribe_callback=reverse("voice:transcription"),
        recording_status_callback=reverse("voice:recording"),
        recording_status_callback_event="completed",
        action=reverse("voice:recorded") + f"?language={language}",
    )
