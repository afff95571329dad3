from typing import Any

from django.urls import path

from chat.consumers import ConversationConsumer, StaffConsumer

# Django's `path` routes ASGI applications here too (Channels' URLRouter reads its patterns).
websocket_urlpatterns: list[Any] = [
    path("ws/chat/<int:conversation_id>/", ConversationConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/staff/", StaffConsumer.as_asgi()),  # type: ignore[arg-type]
]
