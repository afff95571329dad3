from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Before Django's auth URLs: accounts' own password-reset view (rate limited) must win.
    path("", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("tickets.urls")),
    path("", include("sla.urls")),
    path("", include("scheduling.urls")),
    path("", include("mail.urls")),
    path("", include("voice.urls")),
    path("", include("chat.urls")),
    path("", include("webhooks.urls")),
    path("", include("audit.urls")),
]
