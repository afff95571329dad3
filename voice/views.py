"""The support line's webhooks. Every request must carry the provider's signature of the exact
URL and parameters (X-Twilio-Signature); an unsigned or forged one gets 403 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from vipsupport.ids import parse_int
from voice import services, twiml
from voice.models import Call

View = Callable[[HttpRequest], HttpResponse]


def _signed_url(request: HttpRequest) -> str:
    """The address the provider called, as it signed it: the portal's public address (behind
    a proxy, the request's own host and scheme may differ), with the query string."""
    return settings.PORTAL_URL.rstrip("/") + request.get_full_path()


def provider_signed(view: View) -> View:
    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        token = settings.TWILIO_AUTH_TOKEN
        signature = request.headers.get("X-Twilio-Signature", "")
        if not token or not RequestValidator(token).validate(
            _signed_url(request), request.POST.dict(), signature
        ):
            return HttpResponseForbidden("Invalid signature")
        if not request.POST.get("CallSid"):
            return HttpResponseBadRequest("CallSid is missing")
        return view(request)

    return checked


def _twiml(content: str) -> HttpResponse:
    return HttpResponse(content, content_type="text/xml; charset=utf-8")


@provider_signed
def incoming(request: HttpRequest) -> HttpResponse:
    """A call to the support line: put through, or to voicemail."""
    plan = services.call_received(
        call_sid=request.POST["CallSid"],
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
        at=timezone.now(),
    )
    return _twiml(twiml.call_answer(plan))


@provider_signed
def dial_status(request: HttpRequest) -> HttpResponse:
    """How the call to the agent ended: answered and over, or a voicemail now."""
    answered = request.POST.get("DialCallStatus") == "completed"
    try:
        plan = services.call_dial_finished(
            call_sid=request.POST["CallSid"], answered=answered, at=timezone.now()
        )
    except Call.DoesNotExist:
        raise Http404 from None
    return _twiml(twiml.answered_answer() if answered else twiml.missed_answer(plan))


@provider_signed
def recorded(request: HttpRequest) -> HttpResponse:
    """The caller finished the message: thank them and hang up."""
    language = request.GET.get("language", "en")
    return _twiml(twiml.recorded_answer(language if language in twiml.SPEECH_LANGUAGES else "en"))


@provider_signed
def recording(request: HttpRequest) -> HttpResponse:
    """The provider has the recording: keep the voicemail and open its ticket."""
    if request.POST.get("RecordingStatus", "completed") != "completed":
        return HttpResponse(status=204)
    recording_sid = request.POST.get("RecordingSid", "")
    recording_url = request.POST.get("RecordingUrl", "")
    if not recording_sid or not recording_url:
        return HttpResponseBadRequest("RecordingSid and RecordingUrl are required")
    services.voicemail_recorded(
        call_sid=request.POST["CallSid"],
        recording_sid=recording_sid,
        recording_url=recording_url,
        duration=parse_int(request.POST.get("RecordingDuration"), minimum=0) or 0,
        at=timezone.now(),
    )
    return HttpResponse(status=204)


@provider_signed
def transcription(request: HttpRequest) -> HttpResponse:
    if request.POST.get("TranscriptionStatus", "completed") == "completed":
        services.voicemail_transcribed(
            recording_sid=request.POST.get("RecordingSid", ""),
            text=request.POST.get("TranscriptionText", ""),
            at=timezone.now(),
        )
    return HttpResponse(status=204)
