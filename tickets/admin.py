"""Tickets in the admin: for looking things up; changes go through the workspace's services."""

from django.contrib import admin

from accounts.admin import HistoryAdmin, ReadOnlyInline
from tickets.models import Escalation, Notification, Ticket, TicketEvent, TicketMessage


class MessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = readonly_fields = ("created_at", "author", "visibility", "body")


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = readonly_fields = ("created_at", "kind", "actor", "data")


class EscalationInline(ReadOnlyInline):
    model = Escalation
    fields = readonly_fields = ("created_at", "source", "requested_by", "reason")


@admin.register(Ticket)
class TicketAdmin(HistoryAdmin, admin.ModelAdmin[Ticket]):
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


@admin.register(Notification)
class NotificationAdmin(HistoryAdmin, admin.ModelAdmin[Notification]):
    list_display = ["recipient", "kind", "ticket", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__email"]
    list_select_related = ["recipient", "ticket"]
    raw_id_fields = ["ticket", "recipient"]
