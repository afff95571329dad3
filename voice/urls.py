from django.urls import path

from voice import views, views_staff

app_name = "voice"

urlpatterns = [
    path("voice/incoming/", views.incoming, name="incoming"),
    path("voice/dial-status/", views.dial_status, name="dial-status"),
    path("voice/recorded/", views.recorded, name="recorded"),
    path("voice/recording/", views.recording, name="recording"),
    path("voice/transcription/", views.transcription, name="transcription"),
    # Staff pages, and the recordings' player source
    path("queue/voicemail/", views_staff.unverified, name="unverified"),
    path("queue/voicemail/<int:pk>/file/", views_staff.voicemail_file, name="file"),
    path("queue/voicemail/<int:pk>/audio/", views_staff.audio, name="audio"),
]
