"""The phone channel's pages for people (the provider's webhooks are in `voice.views`): the
voicemails from unknown numbers, filing one for a customer, and a recording to play."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from accounts.permissions import staff_only
from tickets.forms import customer_choices
from vipsupport.downloads import stored_file_download
from vipsupport.forms import form_add_service_errors
from vipsupport.ids import parse_id
from voice import services
from voice.forms import VoicemailFileForm
from voice.models import Voicemail
from voice.selectors import voicemail_for_staff, voicemails_unverified, voicemails_visible_to

# What a stored recording is served as: its fetched type when that is audio, else MP3 (the
# format `voice.recordings` asks the provider for).
DEFAULT_AUDIO_TYPE = "audio/mpeg"
EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav"}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _render_unverified(
    request: HttpRequest,
    *,
    failed: Voicemail | None = None,
    form: VoicemailFileForm | None = None,
    status: int = 200,
) -> HttpResponse:
    voicemails = voicemails_unverified()
    rows = [
        (voicemail, form if failed and form and voicemail.pk == failed.pk else VoicemailFileForm())
        for voicemail in voicemails
    ]
    context: dict[str, object] = {
        "rows": rows,
        "customers": customer_choices() if voicemails else [],
        # A refusal for a voicemail no longer listed (filed meanwhile) shows above the list.
        "orphan_form": form if failed and failed not in voicemails else None,
    }
    return render(request, "voice/unverified.html", context, status=status)


@staff_only
@require_safe
def unverified(request: HttpRequest) -> HttpResponse:
    """Voicemails from numbers no company has, oldest first, each to be filed for a customer."""
    return _render_unverified(request)


@staff_only
@require_POST
def voicemail_file(request: HttpRequest, pk: int) -> HttpResponse:
    """File a voicemail for the customer who left it; its ticket opens in the workspace."""
    voicemail = voicemail_for_staff(pk=pk)
    if voicemail is None:
        raise Http404
    form = VoicemailFileForm(request.POST)
    if form.is_valid():
        try:
            voicemail = services.voicemail_file(
                voicemail=voicemail,
                requester=form.cleaned_data["requester"],
                decided_by=_user(request),
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            assert voicemail.ticket_id is not None
            messages.success(
                request,
                _("The voicemail is filed for %(name)s as ticket #%(id)s.")
                % {"name": form.cleaned_data["requester"], "id": voicemail.ticket_id},
            )
            return redirect("tickets:work", pk=voicemail.ticket_id)
    return _render_unverified(request, failed=voicemail, form=form, status=400)


@require_safe
@never_cache
@login_required
def audio(request: HttpRequest, pk: int) -> FileResponse:
    """A voicemail's recording, inline for the page's player: staff only (anyone else, and a
    recording not fetched yet, is a 404)."""
    voicemail_id = parse_id(pk)
    voicemail = (
        voicemails_visible_to(user=_user(request)).filter(pk=voicemail_id).first()
        if voicemail_id is not None
        else None
    )
    if voicemail is None or not voicemail.audio:
        raise Http404
    content_type = (
        voicemail.audio_type if voicemail.audio_type.startswith("audio/") else DEFAULT_AUDIO_TYPE
    )
    return stored_file_download(
        voicemail.audio,
        filename=f"voicemail-{voicemail.pk}.{EXTENSIONS.get(content_type, 'audio')}",
        content_type=content_type,
        what=f"Voicemail {voicemail.pk}",
        inline=True,
    )
