"""The customer portal: a company's tickets, opening one, the conversation, solve and escalate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import customer_only
from accounts.selectors import user_colleagues
from tickets import services
from tickets.forms import ReasonForm, ReplyForm, TicketForm
from tickets.models import (
    EscalationSource,
    Severity,
    Status,
    Ticket,
)
from tickets.selectors import ticket_thread, tickets_of_company
from tickets.severity import SEVERITY_HELP
from vipsupport.forms import form_add_service_errors
from vipsupport.ids import parse_int
from vipsupport.logs import log_ticket

TABS = {"open": (Status.NEW, Status.OPEN, Status.WAITING), "solved": (Status.SOLVED, Status.CLOSED)}


def _customer(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _company_id(request: HttpRequest) -> int:
    """The viewer's company; `customer_only` guarantees there is one."""
    company_id = _customer(request).company_id
    assert company_id is not None
    return company_id


def _company_ticket(request: HttpRequest, pk: int) -> Ticket:
    """The ticket, if it belongs to the viewer's company; any other id is a 404."""
    log_ticket(pk)  # the id asked for, so a refused probe is on the record too
    return get_object_or_404(
        Ticket.objects.select_related("company", "requester", "assignee"),
        pk=pk,
        company_id=_company_id(request),
    )


@customer_only
def ticket_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    severity = parse_int(request.GET.get("severity"), minimum=1, maximum=5)
    query = request.GET.get("q", "").strip()[:200]
    tickets = tickets_of_company(
        company_id=_company_id(request), statuses=TABS[tab], severity=severity, query=query
    )
    page = Paginator(tickets, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/portal/list.html",
        {
            "page": page,
            "tab": tab,
            "query": query,
            "severity": severity,
            "severities": Severity.choices,
        },
    )


def _new_ticket_form(request: HttpRequest, data: object = None, files: object = None) -> TicketForm:
    customer = _customer(request)
    return TicketForm(data, files, colleagues=user_colleagues(user=customer))


@customer_only
def ticket_new(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    form = _new_ticket_form(request, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                requester=customer,
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                severity=form.cleaned_data["severity"],
                cc=list(form.cleaned_data["cc"]),
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            log_ticket(ticket.pk)
            messages.success(request, _("Ticket #%(id)s is open.") % {"id": ticket.pk})
            return redirect("tickets:detail", pk=ticket.pk)
    assert customer.company is not None
    return render(
        request,
        "tickets/portal/new.html",
        {
            "form": form,
            "company": customer.company,
            "severity_help": SEVERITY_HELP,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _detail_context(request: HttpRequest, ticket: Ticket) -> dict[str, object]:
    thread = ticket_thread(ticket=ticket, with_notes=False)
    return {
        "ticket": ticket,
        "conversation": thread.conversation,
        "description_files": thread.description_files,
        "contact": thread.contact,
        "is_vip": thread.is_vip,
        "can_escalate": thread.is_vip
        and ticket.tier == 1
        and ticket.status in (Status.NEW, Status.OPEN, Status.WAITING),
    }


@customer_only
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _company_ticket(request, pk)
    context = _detail_context(request, ticket)
    context["reply_form"] = ReplyForm()
    return render(request, "tickets/portal/detail.html", context)


@customer_only
@require_POST
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _company_ticket(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                author=_customer(request),
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect("tickets:detail", pk=ticket.pk)
    context = _detail_context(request, ticket)
    context["reply_form"] = form
    return render(request, "tickets/portal/detail.html", context, status=400)


def _set_status(request: HttpRequest, pk: int, status: Status, done: str) -> HttpResponse:
    ticket = _company_ticket(request, pk)
    try:
        services.ticket_set_status(ticket=ticket, status=status, actor=_customer(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("tickets:detail", pk=ticket.pk)


@customer_only
@require_POST
def ticket_solve(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_status(request, pk, Status.SOLVED, _("Marked as solved. Reply to reopen it."))


@customer_only
@require_POST
def ticket_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_status(request, pk, Status.OPEN, _("The ticket is open again."))


@customer_only
def ticket_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for a senior engineer (the add-on's priority access to tier 2)."""
    ticket = _company_ticket(request, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_escalate(
                ticket=ticket,
                reason=form.cleaned_data["reason"],
                source=EscalationSource.CUSTOMER,
                requested_by=_customer(request),
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("A senior engineer is on it."))
            return redirect("tickets:detail", pk=ticket.pk)
    return render(
        request,
        "tickets/portal/escalate.html",
        {"ticket": ticket, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
