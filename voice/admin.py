"""Calls and voicemails in the admin: for looking things up; only the phone channel writes them,
and agents file voicemails at /queue/voicemail/."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.admin import HistoryAdmin
from voice.models import Call, Voicemail


class ReadOnlyAdmin(HistoryAdmin):
    """Rows only the phone channel writes: shown, never added, changed or deleted here."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin, admin.ModelAdmin[Call]):
    list_display = [
        "started_at",
        "from_number",
        "to_number",
        "company",
        "caller",
        "agent",
        "outcome",
    ]
    list_filter = ["outcome"]
    search_fields = ["from_number", "to_number", "call_sid", "company__name", "caller__email"]
    date_hierarchy = "started_at"
    list_select_related = ["company", "caller", "agent"]
    fields = readonly_fields = (
        "call_sid",
        "from_number",
        "to_number",
        "company",
        "caller",
        "agent",
        "outcome",
        "started_at",
        "ended_at",
    )


@admin.register(Voicemail)
class VoicemailAdmin(ReadOnlyAdmin, admin.ModelAdmin[Voicemail]):
    list_display = ["received_at", "caller_number", "duration", "state", "ticket", "fetched_at"]
    list_filter = ["state"]
    search_fields = ["call__from_number", "recording_sid", "transcript"]
    date_hierarchy = "received_at"
    list_select_related = ["call", "ticket"]
    # The recording is heard only through the staff pages, never by its storage URL.
    fields = readonly_fields = (
        "recording_sid",
        "call",
        "state",
        "ticket",
        "duration",
        "transcript",
        "recording",
        "audio_type",
        "fetch_attempts",
        "fetch_error",
        "received_at",
        "fetched_at",
    )

    @admin.display(description=_("from"), ordering="call__from_number")
    def caller_number(self, voicemail: Voicemail) -> str:
        return voicemail.call.from_number

    @admin.display(description=_("recording"))
    def recording(self, voicemail: Voicemail) -> SafeString | str:
        if not voicemail.audio:
            return str(_("Not fetched yet"))
        return format_html(
            '<audio controls preload="none" src="{}"></audio>',
            reverse("voice:audio", args=[voicemail.pk]),
        )
