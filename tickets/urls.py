from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
]
