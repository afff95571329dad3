"""The staff mail pages: the inbox, one received e-mail, its raw download, accept and reject."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from accounts.permissions import staff_only
from mail import services
from mail.forms import InboundAcceptForm, InboundRejectForm
from mail.models import NEEDS_AGENT_STATES, InboundMail, InboundState
from mail.selectors import companies_for_choice, inbound_for_staff, mail_inbox
from vipsupport.downloads import stored_file_download
from vipsupport.forms import form_add_service_errors
from vipsupport.ids import parse_id

# What the sandboxed frame starts with: even were the sanitiser to let something through, the
# frame may load nothing (and, sandboxed without allow-scripts, run nothing).
FRAME_HEAD = (
    '<!doctype html><meta charset="utf-8">'
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
)


def _staff(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _inbound(pk: int) -> InboundMail:
    inbound = inbound_for_staff(pk=pk) if parse_id(pk) is not None else None
    if inbound is None:
        raise Http404
    return inbound


@staff_only
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """The e-mails waiting for an agent, oldest first, then the latest others."""
    return render(request, "mail/inbox.html", {"inbox": mail_inbox()})


def _render_inbound(
    request: HttpRequest,
    inbound: InboundMail,
    *,
    bound: dict[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    can_accept = inbound.state == InboundState.UNVERIFIED
    context: dict[str, object] = {
        "inbound": inbound,
        "can_accept": can_accept,
        "can_reject": inbound.state in NEEDS_AGENT_STATES,
        "companies": companies_for_choice() if can_accept else [],
        "frame": FRAME_HEAD + inbound.html if inbound.html else "",
        "accept_form": InboundAcceptForm(initial={"company": inbound.company_id}),
        "reject_form": InboundRejectForm(),
        **(bound or {}),
    }
    return render(request, "mail/inbound.html", context, status=status)


@staff_only
@require_safe
def inbound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_inbound(request, _inbound(pk))


@staff_only
@require_safe
@never_cache
def inbound_raw(request: HttpRequest, pk: int) -> FileResponse:
    """The message exactly as it arrived, to open in a mail program."""
    inbound = _inbound(pk)
    return stored_file_download(
        inbound.raw,
        filename=f"message-{inbound.pk}.eml",
        content_type="message/rfc822",
        what=f"Received e-mail {inbound.pk}",
    )


@staff_only
@require_POST
def inbound_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Vouch for an unknown sender; their e-mail then opens (or joins) a ticket."""
    inbound = _inbound(pk)
    form = InboundAcceptForm(request.POST)
    if form.is_valid():
        try:
            inbound = services.inbound_accept(
                inbound=inbound,
                company=form.cleaned_data["company"],
                decided_by=_staff(request),
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            if inbound.ticket_id is not None:
                messages.success(
                    request,
                    _("The sender is now a contact of %(company)s; the e-mail is on this ticket.")
                    % {"company": form.cleaned_data["company"]},
                )
                return redirect("tickets:work", pk=inbound.ticket_id)
            messages.warning(
                request, _("The sender was accepted, but the e-mail is on no ticket: see why.")
            )
            return redirect("mail:inbound", pk=inbound.pk)
    # Read again: another agent may have decided on it meanwhile.
    return _render_inbound(request, _inbound(pk), bound={"accept_form": form}, status=400)


@staff_only
@require_POST
def inbound_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the e-mail down; it stays stored, and nobody is told."""
    inbound = _inbound(pk)
    form = InboundRejectForm(request.POST)
    try:
        services.inbound_reject(inbound=inbound, decided_by=_staff(request))
    except ValidationError as error:
        form_add_service_errors(form, error)
        return _render_inbound(request, _inbound(pk), bound={"reject_form": form}, status=400)
    messages.success(request, _("The e-mail was rejected; it stays stored here."))
    return redirect("mail:inbox")
