from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    # Customers
    path("chat/", views.site_chat, name="site"),
    path("chat/dedicated/", views.dedicated_chat, name="dedicated"),
    path("chat/dedicated/button/", views.button, name="button"),
    path("chat/dedicated/leave-message/", views.leave_message, name="leave-message"),
    path("chat/start/<slug:door>/", views.start, name="start"),
    # Both sides
    path("chat/<int:pk>/", views.conversation, name="conversation"),
    path("chat/<int:pk>/messages/", views.post_message, name="post-message"),
    path("chat/<int:pk>/close/", views.close, name="close"),
    path("chat/<int:pk>/files/<int:file_pk>/", views.chat_file, name="file"),
    # Staff
    path("queue/chat/", views.inbox, name="inbox"),
    path("queue/chat/presence/", views.presence, name="presence"),
    path("queue/chat/waiting/", views.waiting_count, name="waiting-count"),
    path("queue/chat/<int:pk>/", views.staff_conversation, name="staff-conversation"),
    path("queue/chat/<int:pk>/take/", views.take, name="take"),
    path("queue/chat/<int:pk>/ticket/", views.to_ticket, name="to-ticket"),
    path("queue/chat/<int:pk>/attach/", views.attach, name="attach"),
]
