"""`manage.py simulate_call --from +359881234567`: play the support line provider's signed webhook
sequence against a running portal, as a caller would set it off: the call, the agent's phone
(answered or not), the voicemail and its transcript. Try the phone channel without a provider."""

from __future__ import annotations

import secrets
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from twilio.request_validator import RequestValidator

DEMO_RECORDING = "/static/voice/demo-voicemail.wav"


class Command(BaseCommand):
    help = "Play a phone call to the support line against a running portal (signed webhooks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="caller", required=True, help="The caller's number.")
        parser.add_argument("--to", default=settings.SUPPORT_PHONE_NUMBER)
        parser.add_argument("--portal", default=settings.PORTAL_URL, help="The running portal.")
        parser.add_argument(
            "--agent-answers", action="store_true", help="The agent picks up (no voicemail)."
        )
        parser.add_argument("--seconds", type=int, default=42, help="Length of the voicemail.")
        parser.add_argument(
            "--transcript",
            default="Hello, this is a test voicemail: the mail server is down. Please call back.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = settings.TWILIO_AUTH_TOKEN
        if not token:
            raise CommandError("Set TWILIO_AUTH_TOKEN: the portal refuses unsigned webhooks.")
        self.portal = options["portal"].rstrip("/")
        self.validator = RequestValidator(token)
        call_sid = "CA" + secrets.token_hex(16)
        answer = self._post(
            "/voice/incoming/",
            {"CallSid": call_sid, "From": options["caller"], "To": options["to"]},
        )
        if answer.find("Dial") is not None:
            number = answer.findtext("Dial/Number")
            self.stdout.write(f"Put through to {number}.")
            status = "completed" if options["agent_answers"] else "no-answer"
            answer = self._post(
                "/voice/dial-status/", {"CallSid": call_sid, "DialCallStatus": status}
            )
            if options["agent_answers"]:
                self.stdout.write("The agent answered; the call is in the company's call log.")
                return
            self.stdout.write("The agent did not answer.")
        self.stdout.write("Greeting: " + " ".join(say.text or "" for say in answer.iter("Say")))
        recording_sid = "RE" + secrets.token_hex(16)
        self._post(
            "/voice/recording/",
            {
                "CallSid": call_sid,
                "RecordingSid": recording_sid,
                "RecordingUrl": self.portal + DEMO_RECORDING,
                "RecordingDuration": str(options["seconds"]),
                "RecordingStatus": "completed",
            },
        )
        self._post(
            "/voice/transcription/",
            {
                "CallSid": call_sid,
                "RecordingSid": recording_sid,
                "TranscriptionText": options["transcript"],
                "TranscriptionStatus": "completed",
            },
        )
        self.stdout.write(
            "Voicemail left: it is a ticket in the queue (or, from an unknown number, waits at "
            f"{self.portal}/queue/voicemail/)."
        )

    def _post(self, path: str, params: dict[str, str]) -> ET.Element:
        url = self.portal + path
        request = urllib.request.Request(  # noqa: S310 (the portal's own http(s) address)
            url,
            data=urllib.parse.urlencode(params).encode(),
            headers={"X-Twilio-Signature": self.validator.compute_signature(url, params)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = response.read()
        return ET.fromstring(body) if body.strip() else ET.Element("Response")  # noqa: S314
