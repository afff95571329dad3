"""Endpoints in the admin: who receives what; paused or resumed here, the secret never shown.
Their deliveries are the outbox's (Outbox → Webhook deliveries)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from webhooks.models import WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    list_display = ["url", "company", "is_active", "created_by", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "company__name"]
    list_select_related = ["company", "created_by"]
    fields = ["url", "company", "description", "events", "is_active", "created_by", "created_at"]
    readonly_fields = ["url", "company", "events", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made on the webhooks page, which shows the new secret once

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleted on the webhooks page, which drops its pending deliveries
