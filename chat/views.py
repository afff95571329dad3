"""The chat's pages: the customers' doors (the 24/7 site chat and the VIP's dedicated button), a
conversation page for each side, the agents' inbox, and the forms that act on a chat. The live
part of each page talks to `chat.consumers` over a websocket."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from accounts.permissions import customer_only, staff_only
from accounts.selectors import company_holds_addon
from chat import selectors, services
from chat.forms import AttachForm, LeaveMessageForm, MessageForm, ToTicketForm
from chat.models import ChatFile, Conversation, Door, PresenceStatus
from chat.ratelimit import chat_rate_limited
from desk.selectors import desk_hours
from tickets.models import Ticket
from vipsupport.downloads import stored_file_download
from vipsupport.forms import form_add_service_errors
from vipsupport.zones import current_zone


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _conversation_or_404(request: HttpRequest, pk: int) -> Conversation:
    conversation = selectors.conversation_for_user(conversation_id=pk, user=_user(request))
    if conversation is None:
        raise Http404
    return conversation


def _over_limit(request: HttpRequest, form: forms.Form) -> bool:
    """Count the post against the user's chat limit (the sockets' too); over it, say so on the
    form and keep what was typed."""
    if not chat_rate_limited(user_id=_user(request).pk, action="message"):
        return False
    form.add_error(None, _("Too many messages: wait a few seconds."))
    return True


def _is_vip(user: User) -> bool:
    return user.company is not None and company_holds_addon(company=user.company, at=timezone.now())


def _door_page(
    request: HttpRequest,
    door: Door,
    *,
    form: MessageForm | None = None,
    leave_form: LeaveMessageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    context: dict[str, Any] = {
        "door": door,
        "form": form or MessageForm(),
        "leave_form": leave_form or LeaveMessageForm(),
        "hours": desk_hours(at=now, zone=current_zone()),
        "button": selectors.chat_button(customer=user, at=now) if _is_vip(user) else None,
    }
    return render(request, "chat/door.html", context, status=status)


@customer_only
@require_safe
@never_cache
def site_chat(request: HttpRequest) -> HttpResponse:
    """The 24/7 chat every customer page links to: the chat going on, or a first message."""
    conversation = selectors.customer_open_conversation(customer=_user(request), door=Door.SITE)
    if conversation is not None:
        return redirect("chat:conversation", pk=conversation.pk)
    return _door_page(request, Door.SITE)


@customer_only
@require_safe
@never_cache
def dedicated_chat(request: HttpRequest) -> HttpResponse:
    """The VIP's own button: the dedicated agent online, busy or away, and what to do then."""
    user = _user(request)
    if not _is_vip(user):
        raise Http404
    conversation = selectors.customer_open_conversation(customer=user, door=Door.DEDICATED)
    if conversation is not None:
        return redirect("chat:conversation", pk=conversation.pk)
    return _door_page(request, Door.DEDICATED)


@customer_only
@require_safe
@never_cache
def button(request: HttpRequest) -> HttpResponse:
    """The dedicated button alone, which the home page refreshes every half minute."""
    user = _user(request)
    if not _is_vip(user):
        raise Http404
    context = {
        "button": selectors.chat_button(customer=user, at=timezone.now()),
        "hours": desk_hours(at=timezone.now(), zone=current_zone()),
    }
    return render(request, "chat/_button.html", context)


@customer_only
@require_POST
def start(request: HttpRequest, door: str) -> HttpResponse:
    if door not in Door.values:
        raise Http404
    chosen = Door(door)
    if chosen == Door.DEDICATED and not _is_vip(_user(request)):
        raise Http404
    form = MessageForm(request.POST, request.FILES)
    limited = form.is_valid() and _over_limit(request, form)
    if form.is_valid():
        try:
            conversation = services.conversation_start(
                customer=_user(request),
                door=chosen,
                body=form.cleaned_data["body"] or "",
                client_id=form.cleaned_data["client_id"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return redirect("chat:conversation", pk=conversation.pk)
    return _door_page(request, chosen, form=form, status=429 if limited else 400)


@customer_only
@require_POST
def leave_message(request: HttpRequest) -> HttpResponse:
    """Out of hours (or with nobody at their desk), the dedicated button takes a message that
    becomes a ticket, and says when the answer is due."""
    user = _user(request)
    if not _is_vip(user):
        raise Http404
    form = LeaveMessageForm(request.POST)
    limited = form.is_valid() and _over_limit(request, form)
    if form.is_valid():
        try:
            ticket = services.chat_leave_message(customer=user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return render(request, "chat/left.html", {"ticket": ticket})
    return _door_page(request, Door.DEDICATED, leave_form=form, status=429 if limited else 400)


@login_required
@require_safe
@never_cache
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's page of their chat (staff are sent to theirs)."""
    found = _conversation_or_404(request, pk)
    if found.customer_id != request.user.pk:
        return redirect("chat:staff-conversation", pk=pk)
    return render(request, "chat/conversation.html", _conversation_context(found, "customer"))


def _conversation_context(conversation: Conversation, side: str, **extra: Any) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "side": side,
        "chat_messages": list(selectors.conversation_messages(conversation_id=conversation.pk)),
        "form": MessageForm(),
        **extra,
    }


@login_required
@require_POST
def post_message(request: HttpRequest, pk: int) -> HttpResponse:
    """A message with files (the socket carries text alone); answers JSON to the page's script,
    and a page to a browser without it."""
    found = _conversation_or_404(request, pk)
    form = MessageForm(request.POST, request.FILES)
    limited = form.is_valid() and _over_limit(request, form)
    if form.is_valid():
        try:
            message = services.chat_message_post(
                conversation=found,
                author=_user(request),
                body=form.cleaned_data["body"] or "",
                client_id=form.cleaned_data["client_id"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            if _wants_json(request):
                return JsonResponse({"id": message.pk})
            return redirect(_page_of(found, _user(request)))
    if _wants_json(request):
        return JsonResponse(
            {"errors": {field: [str(e) for e in errors] for field, errors in form.errors.items()}},
            status=429 if limited else 400,
        )
    side = "customer" if found.customer_id == request.user.pk else "staff"
    template = "chat/conversation.html" if side == "customer" else "chat/staff_conversation.html"
    context = _conversation_context(found, side, form=form)
    if side == "staff":
        context.update(_staff_forms(), can_take=selectors.is_chat_agent(_user(request)))
    return render(request, template, context, status=429 if limited else 400)


def _page_of(conversation: Conversation, user: User) -> str:
    if conversation.customer_id == user.pk:
        return reverse("chat:conversation", args=[conversation.pk])
    return reverse("chat:staff-conversation", args=[conversation.pk])


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    try:
        services.conversation_close(conversation=found, actor=_user(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_page_of(found, _user(request)))


@login_required
@require_safe
def chat_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    found = _conversation_or_404(request, pk)
    stored = get_object_or_404(ChatFile, conversation=found, pk=file_pk)
    return stored_file_download(
        stored.file,
        filename=stored.original_name,
        content_type=stored.content_type,
        what=f"Chat file {stored.pk}",
    )


# Staff


def _staff_forms() -> dict[str, Any]:
    return {"ticket_form": ToTicketForm(), "attach_form": AttachForm()}


@staff_only
@require_safe
@never_cache
def inbox(request: HttpRequest) -> HttpResponse:
    """Waiting chats (VIP first, then the longest waiting), the agent's own, and colleagues'."""
    user = _user(request)
    box = selectors.chat_inbox(agent=user)
    every = [*box.waiting, *box.mine, *box.others]
    context = {
        "inbox": box,
        "previews": selectors.first_customer_lines(every),
        "presence": selectors.agent_presence(agent=user),
        "can_take": selectors.is_chat_agent(user),
        "now": timezone.now(),
    }
    template = "chat/_inbox.html" if request.GET.get("part") == "rows" else "chat/inbox.html"
    return render(request, template, context)


@staff_only
@require_safe
@never_cache
def waiting_count(request: HttpRequest) -> JsonResponse:
    """How many chats wait for an agent: the nav badge's number, refreshed by staff pages."""
    return JsonResponse({"waiting": selectors.chats_waiting_count()})


@staff_only
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    status = request.POST.get("status", "")
    if status not in PresenceStatus.values:
        messages.error(request, _("Choose available or busy."))
    else:
        try:
            services.presence_set_status(agent=_user(request), status=PresenceStatus(status))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("chat:inbox")


@staff_only
@require_safe
@never_cache
def staff_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    context = _conversation_context(
        found, "staff", can_take=selectors.is_chat_agent(_user(request)), **_staff_forms()
    )
    return render(request, "chat/staff_conversation.html", context)


@staff_only
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    try:
        services.conversation_take(conversation=found, agent=_user(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("chat:inbox")
    return redirect("chat:staff-conversation", pk=pk)


@staff_only
@require_POST
def to_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    form = ToTicketForm(request.POST)
    if form.is_valid():
        try:
            ticket = services.conversation_to_ticket(
                conversation=found,
                agent=_user(request),
                subject=form.cleaned_data["subject"],
                severity=form.cleaned_data["severity"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(
                request, _("Ticket #%(number)d opened from the chat.") % {"number": ticket.pk}
            )
            return redirect("chat:staff-conversation", pk=pk)
    context = _conversation_context(
        found, "staff", can_take=selectors.is_chat_agent(_user(request)), **_staff_forms()
    )
    context["ticket_form"] = form
    return render(request, "chat/staff_conversation.html", context, status=400)


@staff_only
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    form = AttachForm(request.POST)
    if form.is_valid():
        ticket = Ticket.objects.filter(pk=form.cleaned_data["ticket"]).first()
        if ticket is None or ticket.company_id != found.company_id:
            form.add_error(
                "ticket",
                _("%(company)s has no ticket #%(number)d.")
                % {"company": found.company, "number": form.cleaned_data["ticket"]},
            )
        else:
            try:
                services.conversation_attach(
                    conversation=found, agent=_user(request), ticket=ticket
                )
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                messages.success(
                    request, _("The chat is kept on ticket #%(number)d.") % {"number": ticket.pk}
                )
                return redirect("chat:staff-conversation", pk=pk)
    context = _conversation_context(
        found, "staff", can_take=selectors.is_chat_agent(_user(request)), **_staff_forms()
    )
    context["attach_form"] = form
    return render(request, "chat/staff_conversation.html", context, status=400)
