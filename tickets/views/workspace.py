"""The staff side: the SLA-ordered queue and the workspace where a ticket is worked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from accounts.permissions import staff_only
from accounts.selectors import agent_choices, agents_active
from tickets import services
from tickets.forms import (
    AssignForm,
    CallbackForm,
    NoteForm,
    ReasonForm,
    SeverityForm,
    StaffReplyForm,
    StaffTicketForm,
    StatusForm,
)
from tickets.models import (
    OPEN_STATUSES,
    EscalationSource,
    Severity,
    Status,
    Ticket,
)
from tickets.queue import Cursor, View, filters_from_query, queue_page
from tickets.selectors import ticket_thread, ticket_timeline
from vipsupport.forms import form_add_service_errors
from vipsupport.htmx import HtmxHttpRequest
from vipsupport.logs import log_ticket
from vipsupport.zones import current_zone


def _staff(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@staff_only
def queue(request: HtmxHttpRequest) -> HttpResponse:
    """Open tickets, most urgent first; htmx polls it every 30 s for the rows alone."""
    user = _staff(request)
    default_view = View.TIER_2 if user.role == Role.SENIOR else View.ALL
    filters = filters_from_query(data=request.GET.dict(), default_view=default_view)
    after = Cursor.decode(request.GET["after"]) if request.GET.get("after") else None
    page = queue_page(user=user, filters=filters, after=after)
    params = request.GET.copy()
    params.pop("after", None)
    next_params = params.copy()
    if page.next_cursor is not None:
        next_params["after"] = page.next_cursor.encode()
    context = {
        "page": page,
        "filters": filters,
        "views": [
            (View.ALL, _("All")),
            (View.MINE, _("Mine")),
            (View.MY_VIP, _("My VIP companies")),
            (View.UNASSIGNED, _("Unassigned")),
            (View.TIER_2, _("Tier 2")),
            (View.HELD, _("Held until opening")),
        ],
        "severities": Severity.choices,
        "statuses": [(status, Status(status).label) for status in OPEN_STATUSES],
        "agents": agent_choices(),
        "now": timezone.now(),
        "base_query": params.urlencode(),
        "next_query": next_params.urlencode() if page.next_cursor else "",
        "is_first_page": after is None,
    }
    template = "tickets/queue/_rows.html" if request.htmx else "tickets/queue/queue.html"
    return render(request, template, context)


@staff_only
def ticket_file(request: HttpRequest) -> HttpResponse:
    """A ticket filed for a customer who phoned, wrote or chatted, dated when it reached us."""
    posted = request.method == "POST"
    form = StaffTicketForm(request.POST, request.FILES) if posted else StaffTicketForm()
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                requester=data["requester"],
                subject=data["subject"],
                description=data["description"],
                severity=data["severity"],
                channel=data["channel"],
                created_by=_staff(request),
                files=data["attachments"],
                at=data["received_at"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            log_ticket(ticket.pk)
            messages.success(request, _("Ticket #%(id)s is open.") % {"id": ticket.pk})
            return redirect("tickets:work", pk=ticket.pk)
    return render(
        request,
        "tickets/workspace/new.html",
        {"form": form, "customers": form.requester_choices(), "zone": current_zone().key},
        status=400 if form.is_bound and form.errors else 200,
    )


def _ticket(pk: int) -> Ticket:
    log_ticket(pk)
    return get_object_or_404(
        Ticket.objects.select_related("company", "requester", "assignee__agent_profile"), pk=pk
    )


def _forms(ticket: Ticket) -> dict[str, Form]:
    agents = agents_active()
    return {
        "reply_form": StaffReplyForm(),
        "note_form": NoteForm(),
        "status_form": StatusForm(initial={"status": ticket.status}),
        "severity_form": SeverityForm(initial={"severity": ticket.severity}),
        "assign_form": AssignForm(initial={"assignee": ticket.assignee_id}, agents=agents),
        "escalate_form": ReasonForm(),
        "callback_reached_form": CallbackForm(),
        "callback_failed_form": CallbackForm(),
    }


def _render_workspace(
    request: HttpRequest, ticket: Ticket, *, bound: dict[str, Form] | None = None, status: int = 200
) -> HttpResponse:
    thread = ticket_thread(ticket=ticket, with_notes=True)
    events = ticket_timeline(ticket=ticket)
    context: dict[str, object] = {
        "ticket": ticket,
        "conversation": thread.conversation,
        "description_files": thread.description_files,
        "events": events,
        "escalations": list(ticket.escalations.select_related("requested_by")),
        "is_vip": thread.is_vip,
        "contact": thread.contact,
        "now": timezone.now(),
        **_forms(ticket),
        **(bound or {}),
    }
    return render(request, "tickets/workspace/ticket.html", context, status=status)


@staff_only
def ticket_work(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_workspace(request, _ticket(pk))


def _submit(
    request: HttpRequest,
    pk: int,
    *,
    form: Form,
    name: str,
    action: Callable[[Ticket, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Validate a workspace form, run its service, and redirect; or show the errors, input kept."""
    ticket = _ticket(pk)
    if form.is_valid():
        try:
            action(ticket, form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("tickets:work", pk=ticket.pk)
    return _render_workspace(request, ticket, bound={name: form}, status=400)


@staff_only
@require_POST
def work_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """A public reply (or, with "internal" set, a note), with attachments."""
    user = _staff(request)
    if request.POST.get("internal"):
        note_form = NoteForm(request.POST, request.FILES)

        return _submit(
            request,
            pk,
            form=note_form,
            name="note_form",
            action=lambda ticket, data: services.ticket_add_note(
                ticket=ticket, author=user, body=str(data["body"]), files=data["attachments"]
            ),
            done=_("Note added."),
        )

    reply_form = StaffReplyForm(request.POST, request.FILES)

    def reply(ticket: Ticket, data: dict[str, Any]) -> None:
        then = data.get("then")
        services.ticket_reply(
            ticket=ticket,
            author=user,
            body=str(data["body"]),
            new_status=Status(then) if then else None,
            files=data["attachments"],
        )

    return _submit(
        request, pk, form=reply_form, name="reply_form", action=reply, done=_("Reply sent.")
    )


@staff_only
@require_POST
def work_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    return _submit(
        request,
        pk,
        form=StatusForm(request.POST),
        name="status_form",
        action=lambda ticket, data: services.ticket_set_status(
            ticket=ticket, status=Status(str(data["status"])), actor=user
        ),
        done=_("Status changed."),
    )


@staff_only
@require_POST
def work_severity(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    return _submit(
        request,
        pk,
        form=SeverityForm(request.POST),
        name="severity_form",
        action=lambda ticket, data: services.ticket_change_severity(
            ticket=ticket,
            severity=int(str(data["severity"])),
            reason=str(data["reason"]),
            actor=user,
        ),
        done=_("Severity changed; the SLA deadlines were recomputed."),
    )


@staff_only
@require_POST
def work_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    agents = agents_active()
    data = request.POST.copy()
    if data.get("assignee") == "me":
        data["assignee"] = str(user.pk)
    return _submit(
        request,
        pk,
        form=AssignForm(data, agents=agents),
        name="assign_form",
        action=lambda ticket, data: services.ticket_assign(
            ticket=ticket, assignee=data["assignee"], actor=user
        ),
        done=_("Assignment saved."),
    )


@staff_only
@require_POST
def work_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    return _submit(
        request,
        pk,
        form=ReasonForm(request.POST),
        name="escalate_form",
        action=lambda ticket, data: services.ticket_escalate(
            ticket=ticket,
            reason=str(data["reason"]),
            source=EscalationSource.AGENT,
            requested_by=user,
        ),
        done=_("Escalated to tier 2; the seniors were notified."),
    )


@staff_only
@require_POST
def work_callback(request: HttpRequest, pk: int) -> HttpResponse:
    """The agent phoned the customer back: reached them (the callback is met and the ticket
    answered), or not (an attempt on the timeline, with what happened)."""
    user = _staff(request)
    reached = request.POST.get("reached") == CallbackForm.REACHED
    return _submit(
        request,
        pk,
        form=CallbackForm(request.POST),
        # The errors and the note go back to the form that was sent.
        name="callback_reached_form" if reached else "callback_failed_form",
        action=lambda ticket, data: services.ticket_called_back(
            ticket=ticket, actor=user, reached=bool(data["reached"]), note=str(data["note"])
        ),
        done=_("Callback recorded: the customer was reached.")
        if reached
        else _("The failed callback attempt was recorded."),
    )
