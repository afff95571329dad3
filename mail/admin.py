"""Received mail in the admin: for looking things up; agents decide on it at /queue/mail/."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.admin import HistoryAdmin
from mail.models import ImapCursor, InboundMail


class ReadOnlyAdmin(HistoryAdmin):
    """Rows only the e-mail channel writes: shown, never added, changed or deleted here."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnlyAdmin, admin.ModelAdmin[InboundMail]):
    list_display = ["received_at", "sender", "recipient", "subject", "state", "company", "ticket"]
    list_filter = ["state", "transport"]
    search_fields = ["sender", "subject", "message_id"]
    date_hierarchy = "received_at"
    list_select_related = ["company", "ticket"]
    # The stored file is reached only through the staff pages, never by its storage URL.
    fields = readonly_fields = (
        "message_id",
        "staff_page",
        "size",
        "transport",
        "received_at",
        "envelope_sender",
        "recipient",
        "sender",
        "sender_name",
        "subject",
        "state",
        "problem",
        "company",
        "ticket",
        "ticket_message",
        "processed_at",
        "decided_by",
        "full_text",
    )

    @admin.display(description=_("on the staff pages"))
    def staff_page(self, inbound: InboundMail) -> SafeString:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("mail:inbound", args=[inbound.pk]),
            _("Open in the mail inbox"),
            reverse("mail:raw", args=[inbound.pk]),
            _("Download the message as received"),
        )


@admin.register(ImapCursor)
class ImapCursorAdmin(ReadOnlyAdmin, admin.ModelAdmin[ImapCursor]):
    list_display = ["mailbox", "uid_validity", "last_uid", "polled_at"]
