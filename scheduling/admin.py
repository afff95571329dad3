"""Call types and agents' schedules are data admins edit; bookings are written by services only."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin import HistoryAdmin, ReadOnlyInline
from scheduling import services
from scheduling.models import (
    AgentSchedule,
    Booking,
    BusyFeed,
    CallEmail,
    CallType,
    DateOverride,
    TimeOff,
    WeeklyHours,
)


@admin.register(CallType)
class CallTypeAdmin(admin.ModelAdmin[CallType]):
    list_display = [
        "name",
        "code",
        "duration",
        "buffer_before",
        "buffer_after",
        "minimum_notice",
        "horizon",
        "step",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["name", "code"]


class WeeklyHoursInline(admin.TabularInline[WeeklyHours, AgentSchedule]):
    model = WeeklyHours
    extra = 0


class DateOverrideInline(admin.TabularInline[DateOverride, AgentSchedule]):
    model = DateOverride
    extra = 0


class TimeOffInline(admin.TabularInline[TimeOff, AgentSchedule]):
    model = TimeOff
    extra = 0


class BusyFeedInline(admin.StackedInline[BusyFeed, AgentSchedule]):
    model = BusyFeed
    extra = 0
    fields = ["name", "url", "uploaded_ics", "fetched_at", "last_error"]
    readonly_fields = ["fetched_at", "last_error"]


@admin.register(AgentSchedule)
class AgentScheduleAdmin(admin.ModelAdmin[AgentSchedule]):
    list_display = ["agent", "time_zone", "max_calls_per_day"]
    search_fields = ["agent__email", "agent__first_name", "agent__last_name"]
    autocomplete_fields = ["agent"]
    list_select_related = ["agent"]
    inlines = [WeeklyHoursInline, DateOverrideInline, TimeOffInline, BusyFeedInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not form.instance.weekly_hours.exists():
            services.schedule_set_default_hours(schedule=form.instance)
            self.message_user(
                request,
                _(
                    "No weekly hours were given, so the support desk's hours "
                    "(Monday to Friday, 09:00-17:00) were added."
                ),
                messages.INFO,
            )


class CallEmailInline(ReadOnlyInline):
    model = CallEmail
    fields = readonly_fields = (
        "kind",
        "recipient",
        "sequence",
        "state",
        "attempts",
        "done_at",
        "last_error",
    )


@admin.register(Booking)
class BookingAdmin(HistoryAdmin, admin.ModelAdmin[Booking]):
    """Bookings are made, moved and cancelled by the booking services, which keep the rules."""

    list_display = ["starts_at", "call_type", "company", "customer", "agent", "status"]
    list_filter = ["status", "call_type"]
    search_fields = ["topic", "company__name", "customer__email", "agent__email"]
    date_hierarchy = "starts_at"
    list_select_related = ["call_type", "company", "customer", "agent"]
    raw_id_fields = ["ticket"]
    inlines = [CallEmailInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
