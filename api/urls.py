"""The API: /api/v1/…, its OpenAPI schema and the browsable docs; anything else under /api/ is
a JSON 404."""

from django.urls import include, path, re_path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from api import errors
from api.views import queue, scheduling, sla, tickets

app_name = "api"

v1 = [
    path("tickets/", tickets.TicketListApi.as_view(), name="tickets"),
    path("tickets/<int:pk>/", tickets.TicketDetailApi.as_view(), name="ticket"),
    path("tickets/<int:pk>/replies/", tickets.TicketReplyApi.as_view(), name="ticket-reply"),
    path("tickets/<int:pk>/notes/", tickets.TicketNoteApi.as_view(), name="ticket-note"),
    path("tickets/<int:pk>/status/", tickets.TicketStatusApi.as_view(), name="ticket-status"),
    path("tickets/<int:pk>/severity/", tickets.TicketSeverityApi.as_view(), name="ticket-severity"),
    path(
        "tickets/<int:pk>/escalation/",
        tickets.TicketEscalateApi.as_view(),
        name="ticket-escalate",
    ),
    path("tickets/<int:pk>/assignee/", tickets.TicketAssignApi.as_view(), name="ticket-assign"),
    path("queue/", queue.QueueApi.as_view(), name="queue"),
    path("call-types/", scheduling.CallTypeListApi.as_view(), name="call-types"),
    path("call-types/<slug:code>/slots/", scheduling.CallSlotListApi.as_view(), name="call-slots"),
    path("bookings/", scheduling.BookingListApi.as_view(), name="bookings"),
    path("bookings/<int:pk>/", scheduling.BookingDetailApi.as_view(), name="booking"),
    path("bookings/<int:pk>/move/", scheduling.BookingMoveApi.as_view(), name="booking-move"),
    path("bookings/<int:pk>/cancel/", scheduling.BookingCancelApi.as_view(), name="booking-cancel"),
    path("reports/sla/", sla.SlaReportApi.as_view(), name="sla-report"),
    path("statement/", sla.SlaStatementApi.as_view(), name="sla-statement"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path(
        "schema/",
        # application/json first, so a browser shows the schema instead of downloading it.
        SpectacularJSONAPIView.as_view(
            api_version="v1", renderer_classes=[OpenApiJsonRenderer2, OpenApiJsonRenderer]
        ),
        name="schema",
    ),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^", errors.not_found),  # every other path, newlines and all
]
