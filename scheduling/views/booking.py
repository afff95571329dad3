"""The customer's booking pages: call types, a week of free times, booking, moving, cancelling.

Customers see only free times, never other bookings. The services decide every rule (who may
book, notice, horizon, the agent who takes the call); these views show their answers. A time that
went meanwhile (`SlotTaken`) answers 409 to htmx and JSON clients, with the nearest free times.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Company, User
from accounts.permissions import customer_only
from accounts.selectors import (
    company_active_addon,
    company_dedicated_contact,
    dedicated_agent_addon,
)
from desk.selectors import desk_zone
from scheduling import offers, selectors
from scheduling.forms import (
    BookingForm,
    CustomerCancelForm,
    RescheduleForm,
    instant_param,
    parse_instant,
)
from scheduling.models import Booking, CallType
from scheduling.services import bookings
from scheduling.services.bookings import SlotTaken
from scheduling.weeks import Week
from tickets.selectors import tickets_open_for_company
from vipsupport.forms import form_add_service_errors
from vipsupport.htmx import HtmxHttpRequest
from vipsupport.zones import current_zone

# Shown under each seeded call type on the first page; a type added later shows its name only.
CALL_TYPE_DESCRIPTIONS = {
    "support": gettext_lazy("A problem or a question, worked through together with your agent."),
    "training": gettext_lazy("Your agent shows your team how to get more out of the product."),
    "analysis": gettext_lazy("Go through planned changes with your agent, and what they affect."),
}


# ---------------------------------------------------------------------------- who may book


def _customer(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _company(request: HttpRequest) -> Company:
    """The viewer's company; `customer_only` guarantees there is one."""
    company = _customer(request).company
    assert company is not None
    return company


def _with_addon(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Customers whose company has the dedicated-agent add-on; others see what it offers."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        company = _company(request)
        if company_active_addon(company=company) is None:
            offer = dedicated_agent_addon()
            context = {
                "company": company,
                "offer": offer,
            }
            return render(request, "scheduling/book/no_addon.html", context)
        return view(request, *args, **kwargs)

    return customer_only(wrapped)  # type: ignore[return-value]


def _company_booking(request: HttpRequest, pk: int) -> Booking:
    """The booking, if it is the viewer's company's; any other id is a 404."""
    return get_object_or_404(
        Booking.objects.select_related("call_type", "agent", "customer", "ticket", "cancelled_by"),
        pk=pk,
        company_id=_company(request).pk,
    )


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


# ---------------------------------------------------------------------------- the week of slots


def _week_context(
    request: HttpRequest,
    *,
    call_type: CallType,
    now: datetime.datetime,
    page_url: str,
    booking: Booking | None = None,
) -> dict[str, Any]:
    """The week the page shows (`?week=`, see `offers.offered_week`) and its free times by day."""
    offered = offers.offered_week(
        company=_company(request),
        call_type=call_type,
        now=now,
        zone=current_zone(),
        asked=request.GET.get("week"),
        booking=booking,
    )
    week = offered.week
    return {
        "call_type": call_type,
        "minutes": _minutes(booking.duration if booking else call_type.duration),
        "week": week,
        "days": offered.days,
        "week_notice": offered.notice,
        "standing_in": offered.standing_in,
        "previous_url": _week_url(page_url, week.previous) if offered.has_previous else "",
        "next_url": _week_url(page_url, week.next) if offered.has_next else "",
    }


def _minutes(duration: datetime.timedelta) -> int:
    return int(duration.total_seconds()) // 60


def _week_url(page_url: str, week: Week) -> str:
    return f"{page_url}?{urlencode({'week': week.param})}"


# ---------------------------------------------------------------------------- pages


@_with_addon
@require_safe
def book_home(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    now = timezone.now()
    call_types = list(selectors.call_types_active())
    horizon = max((call_type.horizon for call_type in call_types), default=datetime.timedelta())
    agents = selectors.company_call_agents(company=company, start=now, end=now + horizon)
    context = {
        "company": company,
        "call_types": [
            (
                call_type,
                _minutes(call_type.duration),
                CALL_TYPE_DESCRIPTIONS.get(call_type.code, ""),
            )
            for call_type in call_types
        ],
        "contact": company_dedicated_contact(company=company, at=now),
        "agents": agents,
        "calls": selectors.company_calls(company=company, now=now),
    }
    return render(request, "scheduling/book/home.html", context)


@_with_addon
@require_safe
def book_slots(request: HttpRequest, code: str) -> HttpResponse:
    call_type = get_object_or_404(selectors.call_types_active(), code=code)
    page_url = reverse("scheduling:slots", args=[call_type.code])
    context = _week_context(request, call_type=call_type, now=timezone.now(), page_url=page_url)
    context["slot_action"] = reverse("scheduling:confirm", args=[call_type.code])
    return render(request, "scheduling/book/slots.html", context)


@_with_addon
@require_http_methods(["GET", "HEAD", "POST"])
def book_confirm(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """GET: the chosen time and the topic form; POST: book it (PRG to the booking)."""
    call_type = get_object_or_404(selectors.call_types_active(), code=code)
    company = _company(request)
    if request.method == "POST":
        return _book(request, company, call_type)
    if "start" not in request.GET:
        return redirect("scheduling:slots", code=call_type.code)
    try:
        start = parse_instant(request.GET["start"])
    except ValidationError as error:
        return _confirm_refused(request, call_type, " ".join(error.messages))
    agents = selectors.company_call_agents(
        company=company, start=start, end=start + call_type.duration
    )
    agent = offers.offered_agent(
        agents=agents, start=start, end=start + call_type.duration, asked=request.GET.get("agent")
    )
    if agent is None:
        return _confirm_refused(
            request, call_type, _("Pick one of the offered times; they show who the call is with.")
        )
    form = _booking_form(request, call_type, agents, initial={"start": start, "agent": agent})
    return render(
        request,
        "scheduling/book/confirm.html",
        _confirm_context(call_type, form, agents, start=start, agent=agent),
    )


def _booking_form(
    request: HttpRequest,
    call_type: CallType,
    agents: selectors.CallAgents,
    *args: Any,
    **kwargs: Any,
) -> BookingForm:
    customer = _customer(request)
    number = customer.phone_number
    return BookingForm(
        *args,
        agents=offers.offered_agent_choices(agents=agents),
        tickets=tickets_open_for_company(company=_company(request)),
        call_type=call_type,
        usual_number=number.as_international if number and number.is_valid() else str(number),
        **kwargs,
    )


def _confirm_context(
    call_type: CallType,
    form: BookingForm,
    agents: selectors.CallAgents,
    *,
    start: datetime.datetime | None,
    agent: User | None,
    nearest: list[datetime.datetime] | None = None,
) -> dict[str, Any]:
    schedule = selectors.agent_schedule_find(agent=agent) if agent is not None else None
    slots_url = reverse("scheduling:slots", args=[call_type.code])
    if start is not None:
        week = Week.containing(timezone.localdate(start), current_zone())
        slots_url = _week_url(slots_url, week)
    return {
        "call_type": call_type,
        "form": form,
        "start": start,
        "end": start + call_type.duration if start is not None else None,
        "agent": agent,
        "agent_zone": schedule.time_zone if schedule else desk_zone().key,
        "viewer_zone": current_zone().key,
        "standing_in": agent is not None and agents.stands_in(agent),
        "dedicated": agents.dedicated,
        "nearest": (
            offers.offered_slots_at(nearest or [], duration=call_type.duration, agent=agent)
            if agent
            else []
        ),
        "minutes": _minutes(call_type.duration),
        "slots_url": slots_url,
    }


def _confirm_refused(request: HttpRequest, call_type: CallType, message: str) -> HttpResponse:
    context = {
        "call_type": call_type,
        "refusal": message,
        "slots_url": reverse("scheduling:slots", args=[call_type.code]),
    }
    return render(request, "scheduling/book/confirm.html", context, status=400)


def _book(request: HtmxHttpRequest, company: Company, call_type: CallType) -> HttpResponse:
    raw_start = request.POST.get("start", "")
    try:
        start: datetime.datetime | None = parse_instant(raw_start)
    except ValidationError:
        start = None
    window_start = start or timezone.now()
    agents = selectors.company_call_agents(
        company=company, start=window_start, end=window_start + call_type.duration
    )
    form = _booking_form(request, call_type, agents, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            booking = bookings.booking_create(
                customer=_customer(request),
                agent=data["agent"],
                call_type=call_type,
                starts_at=data["start"],
                topic=data["topic"],
                phone_number=data.get("phone_number") or "",
                ticket=data["ticket"],
            )
        except SlotTaken as taken:
            context = _confirm_context(
                call_type, form, agents, start=start, agent=data["agent"], nearest=taken.nearest
            )
            return _slot_taken(request, taken, "scheduling/book/confirm.html", context)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return _booked(request, booking)
    agent = form.cleaned_data.get("agent")
    context = _confirm_context(call_type, form, agents, start=start, agent=agent)
    if _wants_json(request):
        return _json_errors(form)
    return _render(request, "scheduling/book/confirm.html", context, status=400)


def _booked(request: HtmxHttpRequest, booking: Booking) -> HttpResponse:
    url = reverse("scheduling:booking", args=[booking.pk])
    if _wants_json(request):
        return JsonResponse(
            {"id": booking.pk, "url": url, "starts_at": instant_param(booking.starts_at)},
            status=201,
        )
    messages.success(
        request,
        _("Your call with %(agent)s is booked; the invitation is on its way to %(email)s.")
        % {"agent": booking.agent, "email": booking.customer.email},
    )
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _slot_taken(
    request: HtmxHttpRequest, taken: SlotTaken, template: str, context: dict[str, Any]
) -> HttpResponse:
    """409 for htmx (the fragment) and JSON clients; a plain form post gets the page again."""
    message = " ".join(taken.messages)
    if _wants_json(request):
        nearest = [instant_param(moment) for moment in taken.nearest]
        return JsonResponse({"error": message, "nearest": nearest}, status=409)
    context["taken"] = message
    return _render(request, template, context, status=409 if request.htmx else 200)


def _render(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], *, status: int
) -> HttpResponse:
    """The page, or for htmx only the part the form replaces (the template's `_part`)."""
    if request.htmx:
        part = template.replace("/book/", "/book/_", 1)
        return render(request, part, context, status=status)
    return render(request, template, context, status=status)


def _json_errors(form: Form) -> JsonResponse:
    errors = {
        field or "__all__": [str(message) for message in field_errors]
        for field, field_errors in form.errors.items()
    }
    text = " ".join(message for field_messages in errors.values() for message in field_messages)
    return JsonResponse({"error": text, "errors": errors}, status=400)


@customer_only
@require_safe
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _company_booking(request, pk)
    refusal = bookings.booking_change_refusal(booking=booking, by=_customer(request))
    context = {
        "booking": booking,
        "refusal": refusal,
        "cancel_form": CustomerCancelForm(),
        "cancelled_by_agent": booking.cancelled_by_id is not None
        and booking.cancelled_by_id != booking.customer_id,
    }
    return render(request, "scheduling/book/detail.html", context)


@customer_only
@require_http_methods(["GET", "HEAD", "POST"])
def call_reschedule(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: a week of free times for this call; POST `start`: move it there."""
    booking = _company_booking(request, pk)
    customer = _customer(request)
    refusal = bookings.booking_change_refusal(booking=booking, by=customer)
    if refusal is not None and request.method != "POST":
        messages.error(request, refusal)
        return redirect("scheduling:booking", pk=booking.pk)
    form = RescheduleForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                bookings.booking_reschedule(
                    booking=booking, starts_at=form.cleaned_data["start"], by=customer
                )
            except SlotTaken as taken:
                context = _reschedule_context(request, booking, form)
                context["nearest"] = offers.offered_slots_at(
                    taken.nearest, duration=booking.duration, agent=booking.agent
                )
                return _slot_taken(request, taken, "scheduling/book/reschedule.html", context)
            except ValidationError as error:
                refusal = bookings.booking_change_refusal(booking=booking, by=customer)
                if refusal is not None:
                    return _back_to_booking(request, booking, refusal)
                form_add_service_errors(form, error)
            else:
                messages.success(request, _("Your call has been moved."))
                url = reverse("scheduling:booking", args=[booking.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        elif refusal is not None:
            return _back_to_booking(request, booking, refusal)
        status = 400
        if _wants_json(request):
            return _json_errors(form)
    context = _reschedule_context(request, booking, form)
    return _render(request, "scheduling/book/reschedule.html", context, status=status)


def _reschedule_context(
    request: HttpRequest, booking: Booking, form: RescheduleForm
) -> dict[str, Any]:
    page_url = reverse("scheduling:reschedule", args=[booking.pk])
    context = _week_context(
        request, call_type=booking.call_type, now=timezone.now(), page_url=page_url, booking=booking
    )
    context.update({"booking": booking, "form": form, "slot_action": page_url})
    return context


def _back_to_booking(request: HtmxHttpRequest, booking: Booking, refusal: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": refusal}, status=400)
    messages.error(request, refusal)
    url = reverse("scheduling:booking", args=[booking.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@customer_only
@require_POST
def call_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    booking = _company_booking(request, pk)
    form = CustomerCancelForm(request.POST)
    if not form.is_valid():
        refusal = " ".join(str(message) for errors in form.errors.values() for message in errors)
        return _back_to_booking(request, booking, refusal)
    try:
        bookings.booking_cancel_by_customer(
            booking=booking, by=_customer(request), message=form.cleaned_data["message"]
        )
    except ValidationError as error:
        return _back_to_booking(request, booking, " ".join(error.messages))
    messages.success(
        request, _("Your call is cancelled; %(agent)s has been told.") % {"agent": booking.agent}
    )
    return redirect("scheduling:booking", pk=booking.pk)
