"""Tickets: list, open, read, reply, and what the pages let each side do to one.

Every write calls the same `tickets.services` function as the page does; the services hold the
rules (who may set which status, who may escalate), so the API cannot drift from the portal.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import agents_active, user_colleagues
from api.fields import UtcDateTimeField
from api.permissions import IsCustomerOrStaff, IsStaff
from api.serializers import MessageSerializer, TicketDetailSerializer, TicketSerializer
from sla.selectors import ticket_targets
from tickets import services
from tickets.forms import STAFF_CHANNELS, customers_active, received_at_check
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    EscalationSource,
    Severity,
    Status,
    Ticket,
)
from tickets.selectors import ticket_thread, tickets_of_company, tickets_visible_to
from tickets.services import is_staff_member
from vipsupport.logs import log_ticket

CLOSED_STATUSES = (Status.SOLVED, Status.CLOSED)


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _is_staff(request: Request) -> bool:
    return is_staff_member(_user(request))


def visible_ticket(request: Request, pk: int) -> Ticket:
    """The ticket if the caller may see it; another company's (or any unknown) id is a 404."""
    log_ticket(pk)
    return get_object_or_404(tickets_visible_to(user=_user(request)), pk=pk)


def ticket_detail_data(request: Request, ticket: Ticket) -> dict[str, Any]:
    """The ticket with its conversation (notes for staff only), CCs and SLA targets."""
    staff = _is_staff(request)
    thread = ticket_thread(ticket=ticket, with_notes=staff)
    ticket.thread_messages = thread.conversation  # type: ignore[attr-defined]
    ticket.description_files = thread.description_files  # type: ignore[attr-defined]
    ticket.cc_list = list(ticket.cc.order_by("pk"))  # type: ignore[attr-defined]
    ticket.target_list = ticket_targets(ticket=ticket)  # type: ignore[attr-defined]
    return TicketDetailSerializer(ticket, context={"staff": staff}).data


class TicketPagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-created_at", "-pk")


class TicketPageSerializer(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    previous = serializers.URLField(allow_null=True)
    results = TicketSerializer(many=True)


class TicketListApi(APIView):
    """GET: tickets, newest first (cursor pages). POST: open one."""

    permission_classes = [IsCustomerOrStaff]

    @extend_schema_serializer(component_name="TicketFilter")
    class FilterSerializer(serializers.Serializer[Any]):
        status = serializers.ChoiceField(
            choices=["open", "solved", *Status.values],
            required=False,
            help_text="open (new, open, waiting), solved (solved, closed), or one status.",
        )
        severity = serializers.IntegerField(min_value=1, max_value=5, required=False)
        q = serializers.CharField(
            max_length=200, required=False, help_text="Words in the subject or the public text."
        )
        company = serializers.IntegerField(
            min_value=1, max_value=2**31 - 1, required=False, help_text="Staff only."
        )
        assignee = serializers.IntegerField(
            min_value=1, max_value=2**31 - 1, required=False, help_text="Staff only."
        )

    @extend_schema_serializer(component_name="TicketCreate")
    class InputSerializer(serializers.Serializer[Any]):
        subject = serializers.CharField(max_length=200)
        description = serializers.CharField(max_length=20_000)
        severity = serializers.ChoiceField(choices=Severity.choices)
        cc = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
            required=False,
            max_length=50,
            help_text="Colleagues (user ids) to copy; customers only.",
        )
        requester = serializers.IntegerField(
            min_value=1,
            max_value=2**31 - 1,
            required=False,
            help_text="Staff only: the customer the ticket is for.",
        )
        channel = serializers.ChoiceField(
            choices=[channel.value for channel in STAFF_CHANNELS],
            required=False,
            help_text="Staff only: how the request reached you.",
        )
        received_at = UtcDateTimeField(
            required=False, help_text="Staff only: when it reached you (at most 7 days back)."
        )

    def _filtered(self, request: Request, filters: dict[str, Any]) -> QuerySet[Ticket]:
        wanted = filters.get("status", "open")
        statuses: tuple[str, ...] = (
            OPEN_STATUSES
            if wanted == "open"
            else CLOSED_STATUSES
            if wanted == "solved"
            else (wanted,)
        )
        user = _user(request)
        if user.company_id is not None:
            return tickets_of_company(
                company_id=user.company_id,
                statuses=statuses,
                severity=filters.get("severity"),
                query=filters.get("q", ""),
            ).select_related("company", "assignee")
        tickets = tickets_visible_to(user=user).filter(status__in=statuses)
        if "severity" in filters:
            tickets = tickets.filter(severity=filters["severity"])
        if filters.get("q"):
            tickets = tickets.filter(subject__icontains=filters["q"])
        if "company" in filters:
            tickets = tickets.filter(company_id=filters["company"])
        if "assignee" in filters:
            tickets = tickets.filter(assignee_id=filters["assignee"])
        return tickets

    @extend_schema(
        operation_id="v1_tickets_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str, description="From `next` or `previous`."),
            OpenApiParameter("page_size", int, description="1 to 100; 25 when not given."),
        ],
        responses=TicketPageSerializer,
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = TicketPagination()
        page = paginator.paginate_queryset(self._filtered(request, filters.validated_data), request)
        data = TicketSerializer(page, many=True, context={"staff": _is_staff(request)}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=InputSerializer, responses={201: TicketDetailSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        user = _user(request)
        if user.company_id is not None:
            ticket = self._customer_create(user, fields)
        else:
            ticket = self._staff_create(user, fields)
        log_ticket(ticket.pk)
        return Response(
            ticket_detail_data(request, ticket),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:ticket", args=[ticket.pk])},
        )

    def _customer_create(self, user: User, fields: dict[str, Any]) -> Ticket:
        staff_only = sorted({"requester", "channel", "received_at"} & fields.keys())
        if staff_only:
            raise serializers.ValidationError(
                {name: [_("Only staff file tickets for someone else.")] for name in staff_only}
            )
        colleagues = user_colleagues(user=user)
        cc_ids = set(fields.get("cc", []))
        cc = list(colleagues.filter(pk__in=cc_ids))
        if len(cc) != len(cc_ids):
            raise serializers.ValidationError({"cc": [_("Copy only active colleagues.")]})
        return services.ticket_create(
            requester=user,
            subject=fields["subject"],
            description=fields["description"],
            severity=fields["severity"],
            cc=cc,
        )

    def _staff_create(self, user: User, fields: dict[str, Any]) -> Ticket:
        errors: dict[str, list[str]] = {}
        if "cc" in fields:
            errors["cc"] = [_("Customers copy their colleagues; staff cannot.")]
        for name in ("requester", "channel"):
            if name not in fields:
                errors[name] = [_("This field is required when staff file a ticket.")]
        requester = None
        if "requester" in fields:
            requester = customers_active().filter(pk=fields["requester"]).first()
            if requester is None:
                errors["requester"] = [_("No active customer has this id.")]
        received_at = fields.get("received_at") or timezone.now()
        try:
            received_at_check(received_at, now=timezone.now())
        except DjangoValidationError as error:
            errors["received_at"] = error.messages
        if errors:
            raise serializers.ValidationError(errors)
        assert requester is not None
        return services.ticket_create(
            requester=requester,
            subject=fields["subject"],
            description=fields["description"],
            severity=fields["severity"],
            channel=Channel(fields["channel"]),
            created_by=user,
            at=received_at,
        )


class TicketDetailApi(APIView):
    permission_classes = [IsCustomerOrStaff]

    @extend_schema(responses=TicketDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ticket_detail_data(request, visible_ticket(request, pk)))


class TicketReplyApi(APIView):
    """A public reply; staff may set the status with it (waiting on the customer, solved)."""

    permission_classes = [IsCustomerOrStaff]

    @extend_schema_serializer(component_name="TicketReply")
    class InputSerializer(serializers.Serializer[Any]):
        body = serializers.CharField(max_length=20_000)
        then = serializers.ChoiceField(
            choices=[Status.OPEN, Status.WAITING, Status.SOLVED],
            required=False,
            help_text="Staff only: the status after the reply.",
        )

    @extend_schema(request=InputSerializer, responses={201: MessageSerializer})
    def post(self, request: Request, pk: int) -> Response:
        ticket = visible_ticket(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        then = data.validated_data.get("then")
        if then and not _is_staff(request):
            raise serializers.ValidationError(
                {"then": [_("Only staff set a status with a reply.")]}
            )
        message = services.ticket_reply(
            ticket=ticket,
            author=_user(request),
            body=data.validated_data["body"],
            new_status=Status(then) if then else None,
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketNoteApi(APIView):
    """An internal note, which customers never see."""

    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="TicketNote")
    class InputSerializer(serializers.Serializer[Any]):
        body = serializers.CharField(max_length=20_000)

    @extend_schema(request=InputSerializer, responses={201: MessageSerializer})
    def post(self, request: Request, pk: int) -> Response:
        ticket = visible_ticket(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.ticket_add_note(
            ticket=ticket, author=_user(request), body=data.validated_data["body"]
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class _TicketChangeApi(APIView):
    """POST input, run a service on a visible ticket, answer with the ticket as it now is."""

    permission_classes: list[type[BasePermission]] = [IsCustomerOrStaff]
    InputSerializer: type[serializers.Serializer[Any]]

    def change(self, request: Request, ticket: Ticket, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        ticket = visible_ticket(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.change(request, ticket, data.validated_data)
        return Response(ticket_detail_data(request, visible_ticket(request, pk)))


class TicketStatusApi(_TicketChangeApi):
    """Customers mark a ticket solved or reopen it; staff set any status the workspace allows."""

    @extend_schema_serializer(component_name="TicketStatus")
    class InputSerializer(serializers.Serializer[Any]):
        status = serializers.ChoiceField(choices=Status.choices)

    @extend_schema(request=InputSerializer, responses=TicketDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def change(self, request: Request, ticket: Ticket, fields: dict[str, Any]) -> None:
        services.ticket_set_status(
            ticket=ticket, status=Status(fields["status"]), actor=_user(request)
        )


class TicketSeverityApi(_TicketChangeApi):
    """Staff change the severity, saying why; the SLA deadlines are recomputed."""

    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="TicketSeverity")
    class InputSerializer(serializers.Serializer[Any]):
        severity = serializers.ChoiceField(choices=Severity.choices)
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses=TicketDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def change(self, request: Request, ticket: Ticket, fields: dict[str, Any]) -> None:
        services.ticket_change_severity(
            ticket=ticket,
            severity=int(fields["severity"]),
            reason=fields["reason"],
            actor=_user(request),
        )


class TicketEscalateApi(_TicketChangeApi):
    """Ask for a tier-2 senior: staff on any open ticket, customers with the add-on."""

    @extend_schema_serializer(component_name="TicketEscalation")
    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses=TicketDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def change(self, request: Request, ticket: Ticket, fields: dict[str, Any]) -> None:
        services.ticket_escalate(
            ticket=ticket,
            reason=fields["reason"],
            source=EscalationSource.AGENT if _is_staff(request) else EscalationSource.CUSTOMER,
            requested_by=_user(request),
        )


class TicketAssignApi(_TicketChangeApi):
    """Staff give the ticket to an agent (or to nobody, with null)."""

    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="TicketAssignee")
    class InputSerializer(serializers.Serializer[Any]):
        assignee = serializers.IntegerField(
            min_value=1, max_value=2**31 - 1, allow_null=True, help_text="An agent's user id."
        )

    @extend_schema(request=InputSerializer, responses=TicketDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def change(self, request: Request, ticket: Ticket, fields: dict[str, Any]) -> None:
        assignee = None
        if fields["assignee"] is not None:
            assignee = agents_active().filter(pk=fields["assignee"]).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": [_("No active agent has this id.")]})
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=_user(request))
