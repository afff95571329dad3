"""Policies are data the admins edit (their calendars are `desk`'s); SLA targets are history."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import HistoryAdmin
from sla.models import SlaPolicy, SlaPolicyTarget, SlaTarget


class SlaPolicyTargetInline(admin.TabularInline[SlaPolicyTarget, SlaPolicy]):
    model = SlaPolicyTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin[SlaPolicy]):
    list_display = ["name", "code", "calendar"]
    search_fields = ["name", "code"]
    inlines = [SlaPolicyTargetInline]


@admin.register(SlaTarget)
class SlaTargetAdmin(HistoryAdmin, admin.ModelAdmin[SlaTarget]):
    """Targets are written by the SLA engine only; the admin shows them to explain a ticket."""

    list_display = ["ticket", "kind", "severity", "state", "started_at", "due_at", "breached_at"]
    list_filter = ["state", "kind", "severity", "clock"]
    search_fields = ["ticket__subject", "ticket__company__name"]
    date_hierarchy = "due_at"
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
