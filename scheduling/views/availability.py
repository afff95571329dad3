"""An agent's own availability: weekly hours (read-only), time off and external busy calendars."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import staff_only
from desk.models import Weekday
from scheduling import selectors
from scheduling.forms import FeedUploadForm, FeedUrlForm, TimeOffForm
from scheduling.models import BusyFeed, TimeOff
from scheduling.services import availability as availability_service
from vipsupport.forms import form_add_service_errors

# Managers and administrators who also take calls have an agent profile too.

# Feeds added in this session whose first read the agent has not been told about yet: a worker
# reads them after the request, so the page says how it went once it knows.
AWAITING_FIRST_READ_SESSION_KEY = "scheduling:feeds-awaiting-first-read"


def _agent(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_agent_profile:
        raise PermissionDenied
    return user


@staff_only
def availability(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    overview = selectors.agent_availability(agent=agent, now=timezone.now())
    zone = ZoneInfo(overview.time_zone)
    time_off_form = TimeOffForm(zone=zone)
    url_form = FeedUrlForm()
    upload_form = FeedUploadForm()
    if request.method == "POST":
        submitted = request.POST.get("form")
        if submitted == "time_off":
            time_off_form = TimeOffForm(request.POST, zone=zone)
            if _add_time_off(request, agent, time_off_form):
                return redirect("scheduling:availability")
        elif submitted == "feed_url":
            url_form = FeedUrlForm(request.POST)
            if _add_feed_url(request, agent, url_form):
                return redirect("scheduling:availability")
        elif submitted == "feed_upload":
            upload_form = FeedUploadForm(request.POST, request.FILES)
            if _add_feed_upload(request, agent, upload_form):
                return redirect("scheduling:availability")
        else:
            messages.error(request, _("Unknown form; please try again."))
    _tell_first_reads(request, overview.feeds)
    weekly = [
        (label, overview.weekly.get(day, ()))
        for day, label in Weekday.choices  # Monday first
    ]
    return render(
        request,
        "scheduling/availability.html",
        {
            "overview": overview,
            "weekly": weekly,
            "time_off_form": time_off_form,
            "url_form": url_form,
            "upload_form": upload_form,
            "max_feeds": availability_service.MAX_BUSY_FEEDS,
        },
        status=400 if request.method == "POST" else 200,
    )


def _add_time_off(request: HttpRequest, agent: User, form: TimeOffForm) -> bool:
    if not form.is_valid():
        return False
    try:
        availability_service.time_off_add(
            agent=agent,
            starts_at=form.cleaned_data["starts_at"],
            ends_at=form.cleaned_data["ends_at"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        form_add_service_errors(form, error)
        return False
    messages.success(request, _("Your time off is saved; no calls will be offered then."))
    return True


def _add_feed_url(request: HttpRequest, agent: User, form: FeedUrlForm) -> bool:
    if not form.is_valid():
        return False
    try:
        feed = availability_service.busy_feed_add_url(
            agent=agent, url=form.cleaned_data["url"], name=form.cleaned_data["name"]
        )
    except ValidationError as error:
        form_add_service_errors(form, error)
        return False
    awaiting = request.session.get(AWAITING_FIRST_READ_SESSION_KEY, [])
    request.session[AWAITING_FIRST_READ_SESSION_KEY] = [*awaiting, feed.pk]
    messages.success(
        request,
        _("The calendar is added; it is read in a moment, and this page will say how that went."),
    )
    return True


def _tell_first_reads(request: HttpRequest, feeds: list[BusyFeed]) -> None:
    """Tell the agent, one time, how the first read of each feed they added went."""
    awaiting = request.session.get(AWAITING_FIRST_READ_SESSION_KEY)
    if not awaiting:
        return
    still_awaiting = []
    for feed in feeds:
        if feed.pk not in awaiting:
            continue
        name = feed.name or feed.url
        if feed.last_error:
            messages.warning(
                request,
                _(
                    "The calendar “%(name)s” could not be read: %(error)s It is tried again "
                    "every 15 minutes."
                )
                % {"name": name, "error": feed.last_error},
            )
        elif feed.fetched_at is not None:
            messages.success(
                request, _("The calendar “%(name)s” was read successfully.") % {"name": name}
            )
        else:
            still_awaiting.append(feed.pk)
    # Feeds deleted meanwhile drop out here too.
    request.session[AWAITING_FIRST_READ_SESSION_KEY] = still_awaiting


def _add_feed_upload(request: HttpRequest, agent: User, form: FeedUploadForm) -> bool:
    if not form.is_valid():
        return False
    upload = form.files[form.add_prefix("uploaded_ics")]
    try:
        availability_service.busy_feed_add_upload(
            agent=agent,
            ics_text=form.cleaned_data["uploaded_ics"],
            name=form.cleaned_data["name"] or getattr(upload, "name", "")[:100],
        )
    except ValidationError as error:
        form_add_service_errors(form, error)
        return False
    messages.success(request, _("The calendar file is added; its events now count as busy."))
    return True


@staff_only
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        availability_service.time_off_delete(agent=_agent(request), time_off_id=pk)
    except TimeOff.DoesNotExist as error:
        raise Http404 from error
    messages.success(request, _("The time off is deleted."))
    return redirect("scheduling:availability")


@staff_only
@require_POST
def busy_feed_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        availability_service.busy_feed_delete(agent=_agent(request), feed_id=pk)
    except BusyFeed.DoesNotExist as error:
        raise Http404 from error
    messages.success(request, _("The calendar is removed; its events no longer count as busy."))
    return redirect("scheduling:availability")
