from django.urls import path

from tickets.views import attachments, notifications, portal, workspace

app_name = "tickets"

urlpatterns = [
    # Customers
    path("tickets/", portal.ticket_list, name="list"),
    path("tickets/new/", portal.ticket_new, name="new"),
    path("tickets/<int:pk>/", portal.ticket_detail, name="detail"),
    path("tickets/<int:pk>/reply/", portal.ticket_reply, name="reply"),
    path("tickets/<int:pk>/solve/", portal.ticket_solve, name="solve"),
    path("tickets/<int:pk>/reopen/", portal.ticket_reopen, name="reopen"),
    path("tickets/<int:pk>/escalate/", portal.ticket_escalate, name="escalate"),
    # Staff
    path("queue/", workspace.queue, name="queue"),
    path("queue/tickets/new/", workspace.ticket_file, name="work-new"),
    path("queue/tickets/<int:pk>/", workspace.ticket_work, name="work"),
    path("queue/tickets/<int:pk>/reply/", workspace.work_reply, name="work-reply"),
    path("queue/tickets/<int:pk>/status/", workspace.work_status, name="work-status"),
    path("queue/tickets/<int:pk>/severity/", workspace.work_severity, name="work-severity"),
    path("queue/tickets/<int:pk>/assign/", workspace.work_assign, name="work-assign"),
    path("queue/tickets/<int:pk>/escalate/", workspace.work_escalate, name="work-escalate"),
    path("queue/tickets/<int:pk>/callback/", workspace.work_callback, name="work-callback"),
    # Attachments and notifications (added by their modules below this line)
    path("attachments/<int:pk>/", attachments.download, name="attachment"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification-read"),
    path(
        "notifications/read-all/",
        notifications.notifications_read_all,
        name="notifications-read-all",
    ),
]
