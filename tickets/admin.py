"""Tickets in the admin: for looking things up; changes go through the workspace's services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tickets.models import Escalation, Notification, Ticket, TicketEvent, TicketMessage


class ReadOnlyTabular(admin.TabularInline[Any, Ticket]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(ReadOnlyTabular):
    model = TicketMessage
    fields = readonly_fields = ("created_at", "author", "visibility", "body")


class EventInline(ReadOnlyTabular):
    model = TicketEvent
    fields = readonly_fields = ("created_at", "kind", "actor", "data")


class EscalationInline(ReadOnlyTabular):
    model = Escalation
    fields = readonly_fields = ("created_at", "source", "requested_by", "reason")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = [
        "id",
        "subject",
        "company",
        "severity",
        "status",
        "assignee",
        "tier",
        "created_at",
    ]
    list_filter = ["status", "severity", "tier", "channel"]
    search_fields = ["subject", "company__name", "requester__email"]
    date_hierarchy = "created_at"
    list_select_related = ["company", "assignee"]
    autocomplete_fields = ["company", "requester", "assignee"]
    inlines = [MessageInline, EscalationInline, EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["recipient", "kind", "ticket", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__email"]
    list_select_related = ["recipient", "ticket"]
    raw_id_fields = ["ticket", "recipient"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
