"""Call types and agents' schedules are data admins edit; bookings are written by services only."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_field
from django.db.models import Field, URLField
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.admin import HistoryAdmin
from outbox.models import Email
from scheduling.emails import call_email_topic_prefix, call_email_topics
from scheduling.models import (
    AgentSchedule,
    Booking,
    BusyFeed,
    CallType,
    DateOverride,
    TimeOff,
    WeeklyHours,
)
from scheduling.services import availability


@admin.register(CallType)
class CallTypeAdmin(admin.ModelAdmin[CallType]):
    # A video link typed without a scheme is https (the model accepts https only).
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
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
            availability.schedule_set_default_hours(schedule=form.instance)
            self.message_user(
                request,
                _(
                    "No weekly hours were given, so the support desk's hours "
                    "(Monday to Friday, 09:00-17:00) were added."
                ),
                messages.INFO,
            )


# What the booking page shows of each of its outbox e-mails (in the model's field order).
OUTBOX_COLUMNS = {"topic", "to", "state", "attempts", "last_error", "created_at", "done_at"}


@admin.register(Booking)
class BookingAdmin(HistoryAdmin, admin.ModelAdmin[Booking]):
    """Bookings are made, moved and cancelled by the booking services, which keep the rules."""

    list_display = ["starts_at", "call_type", "company", "customer", "agent", "status"]
    list_filter = ["status", "call_type"]
    search_fields = ["topic", "company__name", "customer__email", "agent__email"]
    date_hierarchy = "starts_at"
    list_select_related = ["call_type", "company", "customer", "agent"]
    raw_id_fields = ["ticket"]
    readonly_fields = ["call_emails"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("call e-mails"))
    def call_emails(self, booking: Booking) -> SafeString:
        """The booking's invitations and reminders in the outbox, oldest first, and a link to
        them there (the outbox admin finds a booking's topics by their common prefix)."""
        if booking.pk is None:
            return SafeString("")
        columns = [field for field in Email._meta.fields if field.name in OUTBOX_COLUMNS]
        emails = Email.objects.filter(topic__in=call_email_topics(booking_id=booking.pk))
        head = format_html_join("", "<th>{}</th>", ((column.verbose_name,) for column in columns))
        rows = format_html_join("", "<tr>{}</tr>", ((_cells(email, columns),) for email in emails))
        query = urlencode({"q": call_email_topic_prefix(booking_id=booking.pk)})
        return format_html(
            '<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            head,
            rows,
            f"{reverse('admin:outbox_email_changelist')}?{query}",
            _("Show them in the outbox"),
        )


def _cells(email: Email, columns: list[Field[Any, Any]]) -> SafeString:
    """One outbox e-mail as table cells, each value as the admin shows it."""
    return format_html_join(
        "",
        "<td>{}</td>",
        ((display_for_field(getattr(email, column.attname), column, "-"),) for column in columns),
    )
