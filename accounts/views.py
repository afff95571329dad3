"""The portal's front door: where each role lands, the customer home, the language switch and
the brute-force answers (the lockout page, the throttled password-reset form)."""

from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import selectors, services, throttle
from accounts.forms import ApiTokenForm, OutboxPasswordResetForm, ProfileForm
from accounts.models import Language, Role, User
from desk.selectors import desk_hours
from vipsupport.forms import form_add_service_errors
from vipsupport.shown_once import show_once_keep, show_once_take
from vipsupport.zones import current_zone

LANDING_PAGES = {
    Role.CUSTOMER: "accounts:home",
    Role.AGENT: "tickets:queue",
    Role.SENIOR: "tickets:queue",
    Role.MANAGER: "sla:reports",
    Role.ADMIN: "admin:index",
}


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it works from."""
    user: User = request.user  # type: ignore[assignment]
    role = user.role
    if role is None:
        return render(request, "accounts/no_role.html", status=403)
    return redirect(LANDING_PAGES[role])


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.role != Role.CUSTOMER or user.company is None:
        return after_login(request)
    company = user.company
    now = timezone.now()
    addon = selectors.company_active_addon(company=company)
    offer = None if addon else selectors.dedicated_agent_addon()
    context = {
        "company": company,
        "plan": selectors.company_current_plan(company=company),
        "addon": addon,
        "contact": selectors.company_dedicated_contact(company=company, at=now) if addon else None,
        "hours": desk_hours(at=now, zone=current_zone()),
        "offer": offer,
        # The phone line is part of the dedicated-agent add-on.
        "support_phone": selectors.support_phone_number() if addon else None,
    }
    return render(request, "accounts/home.html", context)


def _profile_initial(user: User) -> dict[str, object]:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "preferred_language": user.preferred_language,
        "time_zone": user.time_zone,
        "phone_number": user.phone_number,
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The user's name, language, time zone and phone number; the calendar subscription is linked
    from here."""
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(
                user=user,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                language=form.cleaned_data["preferred_language"],
                time_zone=form.cleaned_data["time_zone"],
                phone_number=str(form.cleaned_data["phone_number"] or ""),
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            translation.activate(user.preferred_language)
            messages.success(request, _("Your profile was saved."))
            saved = redirect("accounts:profile")
            saved.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.preferred_language)
            return saved
    new_token = "" if request.method == "POST" else show_once_take(request, key="api-token") or ""
    response = _profile_page(
        request, form=form, new_token=new_token, status=400 if form.errors else 200
    )
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


def _profile_page(
    request: HttpRequest,
    *,
    form: ProfileForm | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if form is None:
        form = ProfileForm(initial=_profile_initial(user))
    context = {
        "form": form,
        "token_form": token_form or ApiTokenForm(),
        "tokens": selectors.api_tokens_of(user=user),
        "new_token": new_token,
        "now": timezone.now(),
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """Make a token; the profile page the answer redirects to shows it, once: it is not stored,
    so it cannot be shown again."""
    user: User = request.user  # type: ignore[assignment]
    token_form = ApiTokenForm(request.POST)
    if token_form.is_valid():
        try:
            _row, token = services.api_token_create(
                user=user,
                name=token_form.cleaned_data["name"],
                lifetime_days=token_form.cleaned_data["lifetime_days"],
            )
        except ValidationError as error:
            form_add_service_errors(token_form, error)
        else:
            show_once_keep(request, key="api-token", value=token)
            return redirect(reverse("accounts:profile") + "#api-tokens")
    return _profile_page(request, token_form=token_form, status=400)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not services.api_token_revoke(user=user, token_id=pk):
        raise Http404
    messages.success(request, _("The token is revoked: it no longer opens anything."))
    return redirect("accounts:profile")


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, which also remembers the choice on the user's account."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in Language.values:
        services.user_set_language(user=request.user, language=language)
    return response


def login_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The login page again, saying why it refuses (axes' AXES_LOCKOUT_CALLABLE), with HTTP 429.

    Reads only the request: axes' async middleware passes its other arguments shifted.
    """
    minutes = int(get_cool_off(request).total_seconds() // 60)
    message = ngettext(
        "Too many failed sign-ins for this account from your address. Try again in "
        "%(minutes)s minute, or ask an administrator to unlock it.",
        "Too many failed sign-ins for this account from your address. Try again in "
        "%(minutes)s minutes, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    context = {
        "form": AuthenticationForm(request, initial={"username": request.POST.get("username")}),
        "lockout_message": message,
        "next": next_url,
    }
    return render(request, "registration/login.html", context, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, sending at most a few e-mails per address and per client an hour.

    Over a limit it sends nothing but answers exactly as when it sends (the "check your e-mail"
    page), so the form still does not tell whether an account exists.
    """

    form_class = OutboxPasswordResetForm

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        if throttle.password_reset_email_allowed(
            email=form.cleaned_data["email"], client=throttle.client_address(self.request)
        ):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())
