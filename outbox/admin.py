"""The outbox in the admin: every e-mail and webhook delivery, its state and its attempts;
written only by code."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from outbox.models import Email, WebhookDelivery


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin[Email]):
    list_display = ["created_at", "to", "subject", "state", "attempts", "done_at"]
    list_filter = ["state"]
    search_fields = ["to", "subject", "topic"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Email._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    """The delivery log: what was sent where, and how every attempt went."""

    list_display = [
        "created_at",
        "state",
        "event_type",
        "url",
        "attempts",
        "last_status_code",
        "done_at",
    ]
    list_filter = ["state", "event_type"]
    search_fields = ["url", "topic", "event_id"]
    date_hierarchy = "created_at"
    # The signing secret stays out of the page: the log is for reading what happened.
    exclude = ["secret", "attempt_log"]
    readonly_fields = [
        *(
            field.name
            for field in WebhookDelivery._meta.fields
            if field.name not in ("secret", "attempt_log")
        ),
        "attempt_table",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("attempt log"))
    def attempt_table(self, delivery: WebhookDelivery) -> SafeString:
        if not delivery.attempt_log:
            return format_html("{}", _("No attempt yet."))
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("at", ""),
                    entry.get("status") or "—",
                    f"{entry.get('ms', 0)} ms",
                    entry.get("error") or _("delivered"),
                )
                for entry in delivery.attempt_log
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("at"),
            _("HTTP status"),
            _("time taken"),
            _("result"),
            rows,
        )
