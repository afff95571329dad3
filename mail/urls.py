from django.urls import path

from mail import views

app_name = "mail"

urlpatterns = [
    path("queue/mail/", views.inbox, name="inbox"),
    path("queue/mail/<int:pk>/", views.inbound_detail, name="inbound"),
    path("queue/mail/<int:pk>/raw/", views.inbound_raw, name="raw"),
    path("queue/mail/<int:pk>/accept/", views.inbound_accept, name="accept"),
    path("queue/mail/<int:pk>/reject/", views.inbound_reject, name="reject"),
]
