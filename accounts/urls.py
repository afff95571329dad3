from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/welcome/", views.after_login, name="after-login"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.api_token_create, name="api-token-create"),
    path("profile/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("i18n/language/", views.switch_language, name="switch-language"),
    # Django's reset form behind the e-mail limits; it must come before django.contrib.auth.urls
    # in vipsupport/urls.py, which serves an unlimited one at the same address.
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password-reset"),
]
