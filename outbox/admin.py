"""The outbox in the admin: every e-mail, its state and its last error; written only by code."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from outbox.models import Email


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
