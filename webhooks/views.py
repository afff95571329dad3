"""The webhooks page: VIP companies manage their endpoints, admins the desk-wide ones (and see
every one). A secret is shown once, on the page the POST that made it redirects to."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Company, Role, User
from accounts.selectors import company_holds_addon
from vipsupport.forms import form_add_service_errors
from vipsupport.ids import parse_id
from vipsupport.shown_once import show_once_keep, show_once_take
from webhooks import selectors, services
from webhooks.forms import WebhookEndpointForm
from webhooks.models import WebhookEndpoint


class _NoAddOn(Exception):
    """A customer whose company does not hold the dedicated-agent add-on."""


def _scope(user: User) -> Company | None:
    """The company whose endpoints `user` creates (None: desk-wide, for admins)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.CUSTOMER and user.company is not None:
        if not company_holds_addon(company=user.company, at=timezone.now()):
            raise _NoAddOn
        return user.company
    raise PermissionDenied


def _endpoint(user: User, pk: int) -> WebhookEndpoint:
    """One endpoint `user` manages; 404 for any other id (another company's included)."""
    _scope(user)
    number = parse_id(pk)
    endpoint = (
        selectors.webhook_endpoints_visible(user=user).filter(pk=number).first()
        if number is not None
        else None
    )
    if endpoint is None:
        raise Http404
    return endpoint


def _no_addon(request: HttpRequest) -> HttpResponse:
    return render(request, "webhooks/no_addon.html", status=403)


EndpointView = Callable[[HttpRequest, WebhookEndpoint], HttpResponse]


def _with_endpoint(view: EndpointView) -> Callable[[HttpRequest, int], HttpResponse]:
    """Give `view` the endpoint its URL names, if the viewer manages it (404 otherwise)."""

    @wraps(view)
    def wrapped(request: HttpRequest, pk: int) -> HttpResponse:
        try:
            endpoint = _endpoint(request.user, pk)  # type: ignore[arg-type]
        except _NoAddOn:
            return _no_addon(request)
        return view(request, endpoint)

    return wrapped


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def endpoint_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        company = _scope(user)
    except _NoAddOn:
        return _no_addon(request)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, _secret = services.webhook_endpoint_create(
                company=company,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                events=form.cleaned_data["events"],
                created_by=user,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return _show_secret_next(request, endpoint, created=True)
    context = {
        "form": form,
        "endpoints": selectors.webhook_endpoints_visible(user=user),
        "company": company,
        "is_admin": user.role == Role.ADMIN,
    }
    return render(request, "webhooks/list.html", context, status=400 if form.is_bound else 200)


@login_required
@require_safe
@_with_endpoint
def endpoint_detail(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    context = {
        "endpoint": endpoint,
        "deliveries": selectors.webhook_endpoint_deliveries(endpoint=endpoint),
    }
    return render(request, "webhooks/detail.html", context)


@login_required
@require_POST
@_with_endpoint
def endpoint_delete(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, _("The endpoint is deleted; it receives no more events."))
    return redirect("webhooks:list")


@login_required
@never_cache
@require_POST
@_with_endpoint
def endpoint_rotate(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    services.webhook_endpoint_rotate_secret(endpoint=endpoint)
    return _show_secret_next(request, endpoint, created=False)


def _secret_key(endpoint: WebhookEndpoint) -> str:
    return f"webhook-secret-{endpoint.pk}"


def _show_secret_next(
    request: HttpRequest, endpoint: WebhookEndpoint, *, created: bool
) -> HttpResponse:
    """Redirect to the page that shows the new secret, once (reloading it makes nothing)."""
    show_once_keep(request, key=_secret_key(endpoint), value="created" if created else "rotated")
    return redirect("webhooks:secret", pk=endpoint.pk)


@login_required
@never_cache
@require_safe
@_with_endpoint
def endpoint_secret(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    """The signing secret, right after it was made; afterwards the endpoint's page."""
    shown = show_once_take(request, key=_secret_key(endpoint))
    if shown is None:
        messages.info(
            request,
            _("The signing secret is shown only once. Make a new one if it was not copied."),
        )
        return redirect("webhooks:detail", pk=endpoint.pk)
    context = {"endpoint": endpoint, "secret": endpoint.secret, "created": shown == "created"}
    return render(request, "webhooks/secret.html", context)
