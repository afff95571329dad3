"""The support calendars: admins edit hours and holidays here, and everything that follows the
desk (agent card, call times, SLA clocks, the channels' hours) follows at once."""

from django.contrib import admin

from desk.models import Holiday, OpeningHours, SupportCalendar


class OpeningHoursInline(admin.TabularInline[OpeningHours, SupportCalendar]):
    model = OpeningHours
    extra = 0


class HolidayInline(admin.TabularInline[Holiday, SupportCalendar]):
    model = Holiday
    extra = 0


@admin.register(SupportCalendar)
class SupportCalendarAdmin(admin.ModelAdmin[SupportCalendar]):
    list_display = ["name", "time_zone", "is_desk"]
    search_fields = ["name"]
    inlines = [OpeningHoursInline, HolidayInline]
