from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/welcome/", views.after_login, name="after-login"),
    path("profile/", views.profile, name="profile"),
    path("i18n/language/", views.switch_language, name="switch-language"),
]
