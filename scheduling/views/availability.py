"""An agent's own availability: weekly hours (read-only), time off and external busy calendars."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import form_add_service_errors
from accounts.models import Role, User
from accounts.permissions import role_required
from scheduling import feeds, selectors, services
from scheduling.models import BusyFeed, TimeOff, Weekday

# Managers and administrators who also take calls have an agent profile too.
agents_only = role_required(Role.AGENT, Role.SENIOR, Role.MANAGER, Role.ADMIN)

_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ZonedDateTimeField(forms.DateTimeField):
    """A wall-clock date and time read in a given zone (the agent's schedule's), not the
    request's; times that do not exist or occur twice there are refused."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_LOCAL)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo("UTC")

    def to_python(self, value: Any) -> Any:
        with timezone.override(self.zone):
            return super().to_python(value)


def _when_field(label: Promise, required: Promise) -> ZonedDateTimeField:
    return ZonedDateTimeField(
        label=label,
        error_messages={
            "required": required,
            "invalid": gettext_lazy("Enter a date and time, e.g. 2026-12-24 09:00."),
        },
    )


class TimeOffForm(forms.Form):
    starts_at = _when_field(gettext_lazy("From"), gettext_lazy("Say when your time off starts."))
    ends_at = _when_field(gettext_lazy("Until"), gettext_lazy("Say when your time off ends."))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Optional; customers do not see it."),
    )

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        kwargs["prefix"] = "off"
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].zone = zone  # type: ignore[attr-defined]


class FeedUrlForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Calendar address"),
        max_length=2000,
        help_text=gettext_lazy(
            "The secret iCalendar address of your calendar (https:// or webcal://); it is "
            "read every 15 minutes."
        ),
        error_messages={"required": gettext_lazy("Give the calendar's address.")},
        widget=forms.URLInput(attrs={"placeholder": "https://…/basic.ics"}),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = "url"
        super().__init__(*args, **kwargs)


class FeedUploadForm(forms.Form):
    uploaded_ics = forms.FileField(
        label=gettext_lazy(".ics file"),
        help_text=gettext_lazy("A calendar exported as iCalendar (.ics); it is not updated."),
        error_messages={
            "required": gettext_lazy("Choose an .ics file to upload."),
            "empty": gettext_lazy("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = "upload"
        super().__init__(*args, **kwargs)

    def clean_uploaded_ics(self) -> str:
        """The file's text; the service checks that it is a calendar."""
        upload = self.cleaned_data["uploaded_ics"]
        limit = services.MAX_BUSY_FEED_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is larger than %(size)s.") % {"size": filesizeformat(limit)}
            )
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise ValidationError(
                _("This is not an iCalendar (.ics) file: it is not UTF-8 text.")
            ) from error


def _agent(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_agent_profile:
        raise PermissionDenied
    return user


@agents_only
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
            "max_feeds": services.MAX_BUSY_FEEDS,
        },
        status=400 if request.method == "POST" else 200,
    )


def _add_time_off(request: HttpRequest, agent: User, form: TimeOffForm) -> bool:
    if not form.is_valid():
        return False
    try:
        services.time_off_add(
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
        feed = services.busy_feed_add_url(
            agent=agent, url=form.cleaned_data["url"], name=form.cleaned_data["name"]
        )
    except ValidationError as error:
        form_add_service_errors(form, error)
        return False
    # Read it once now, outside any transaction, so the agent sees at once whether it works.
    if feeds.busy_feed_refresh(feed_id=feed.pk):
        messages.success(request, _("The calendar is added and was read successfully."))
    else:
        feed.refresh_from_db(fields=["last_error"])
        messages.warning(
            request,
            _(
                "The calendar is added, but it could not be read: %(error)s It is tried again "
                "every 15 minutes."
            )
            % {"error": feed.last_error},
        )
    return True


def _add_feed_upload(request: HttpRequest, agent: User, form: FeedUploadForm) -> bool:
    if not form.is_valid():
        return False
    upload = form.files[form.add_prefix("uploaded_ics")]
    try:
        services.busy_feed_add_upload(
            agent=agent,
            ics_text=form.cleaned_data["uploaded_ics"],
            name=form.cleaned_data["name"] or getattr(upload, "name", "")[:100],
        )
    except ValidationError as error:
        form_add_service_errors(form, error)
        return False
    messages.success(request, _("The calendar file is added; its events now count as busy."))
    return True


@agents_only
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.time_off_delete(agent=_agent(request), time_off_id=pk)
    except TimeOff.DoesNotExist as error:
        raise Http404 from error
    messages.success(request, _("The time off is deleted."))
    return redirect("scheduling:availability")


@agents_only
@require_POST
def busy_feed_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.busy_feed_delete(agent=_agent(request), feed_id=pk)
    except BusyFeed.DoesNotExist as error:
        raise Http404 from error
    messages.success(request, _("The calendar is removed; its events no longer count as busy."))
    return redirect("scheduling:availability")
