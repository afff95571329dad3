from django.urls import path

from scheduling.views import availability, booking, calendar, subscription

app_name = "scheduling"

urlpatterns = [
    # Customers book, reschedule and cancel calls with their agent.
    path("book/", booking.book_home, name="book"),
    path("book/<slug:code>/", booking.book_slots, name="slots"),
    path("book/<slug:code>/confirm/", booking.book_confirm, name="confirm"),
    path("book/calls/<int:pk>/", booking.call_detail, name="booking"),
    path("book/calls/<int:pk>/reschedule/", booking.call_reschedule, name="reschedule"),
    path("book/calls/<int:pk>/cancel/", booking.call_cancel, name="cancel"),
    # Agents (and managers, for any agent) see their week and act on calls.
    path("calendar/", calendar.week, name="calendar"),
    path("calendar/calls/<int:pk>/", calendar.call, name="call"),
    path("calendar/calls/<int:pk>/cancel/", calendar.call_cancel, name="call-cancel"),
    path("calendar/calls/<int:pk>/mark/", calendar.call_mark, name="call-mark"),
    path("calendar/calls/<int:pk>/notes/", calendar.call_notes, name="call-notes"),
    path("calendar/availability/", availability.availability, name="availability"),
    path(
        "calendar/availability/time-off/<int:pk>/delete/",
        availability.time_off_delete,
        name="time-off-delete",
    ),
    path(
        "calendar/availability/feeds/<int:pk>/delete/",
        availability.busy_feed_delete,
        name="busy-feed-delete",
    ),
    # Calendar subscriptions: managed from the profile, read by calendar apps at a secret URL.
    path("profile/calendar/", subscription.manage, name="subscription"),
    path("feeds/<str:token>.ics", subscription.feed, name="feed"),
]
