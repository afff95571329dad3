"""Calls with the dedicated agent: call types, bookable times, and booking, moving, cancelling.

The same offers and services as the booking pages (`scheduling.views.booking`): the free times
are `offers.offered_slots`, every write is a `scheduling.services.bookings` function, and a time
that went meanwhile (`SlotTaken`) is a 409 with the nearest free times the page offers.

Without the dedicated-agent add-on, call types, times and new bookings are a 403 (code
`addon_required`): the pages show the add-on's offer instead of the booking flow. Calls already
booked stay readable and cancellable, as on the pages; moving one needs the add-on again, which
the service refuses with a 400.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company, User
from accounts.selectors import company_active_addon
from api.errors import Conflict, from_django
from api.fields import UtcDateTimeField, seconds
from api.permissions import IsCustomer, IsCustomerOrStaff
from api.serializers import CompanySerializer, PersonSerializer
from scheduling import offers, selectors
from scheduling.forms import instant_param, parse_instant
from scheduling.models import Booking, BookingStatus, CallType
from scheduling.services import bookings
from scheduling.services.bookings import SlotTaken
from scheduling.views.booking import CALL_TYPE_DESCRIPTIONS
from scheduling.weeks import Week
from tickets.selectors import tickets_open_for_company
from tickets.services import is_staff_member
from vipsupport.ids import MAX_ID

UTC = datetime.UTC
# Enough for a month of times (the seeded horizon is 30 days); each week costs a calendar read.
MAX_SLOT_DAYS = 31
# How far ahead `from` may lie: past every horizon a call type could sensibly have.
MAX_SLOT_AHEAD = datetime.timedelta(days=366)


# ---------------------------------------------------------------------------- who is asking


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _zone(user: User) -> ZoneInfo:
    """The caller's own zone: dates in queries are their days, as on their pages."""
    return ZoneInfo(user.time_zone)


def _booking_company(request: Request) -> Company:
    """The caller's company, if it may book calls now; else a 403 saying why (as the pages do)."""
    user = _user(request)
    if not IsCustomer().has_permission(request, None):  # type: ignore[arg-type]
        raise exceptions.PermissionDenied()
    company = user.company
    assert company is not None
    if company_active_addon(company=company) is None:
        raise exceptions.PermissionDenied(
            _(
                "Calls with your agent come with the dedicated-agent add-on, which %(company)s "
                "does not have."
            )
            % {"company": company},
            code="addon_required",
        )
    return company


def _calls_visible(request: Request) -> QuerySet[Booking]:
    """The customer's company's calls, or the calls a staff member may open."""
    user = _user(request)
    if user.company_id is not None:
        return Booking.objects.select_related(
            "agent", "company", "customer", "call_type", "ticket", "cancelled_by"
        ).filter(company_id=user.company_id)
    return selectors.calls_visible_to(viewer=user)


def _visible_booking(request: Request, pk: int) -> Booking:
    """The booking if the caller may see it; another company's (or any unknown) id is a 404."""
    return get_object_or_404(_calls_visible(request), pk=pk)


def _renamed(error: DjangoValidationError, names: dict[str, str]) -> exceptions.ValidationError:
    """A service's refusal with its field names as this API spells them."""
    detail = from_django(error).detail
    assert isinstance(detail, dict)
    return exceptions.ValidationError({names.get(key, key): value for key, value in detail.items()})


def _conflict(taken: SlotTaken) -> Conflict:
    return Conflict(
        " ".join(taken.messages),
        extra={"alternatives": [instant_param(moment) for moment in taken.nearest]},
    )


# ---------------------------------------------------------------------------- shapes


class InstantField(UtcDateTimeField):
    """An ISO 8601 instant with its offset, read as the booking pages read one (naive refused)."""

    def to_internal_value(self, value: Any) -> datetime.datetime:
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DDThh:mm:ssZ")
        try:
            return parse_instant(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


def _midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), zone).astimezone(UTC)


class CallTypeSerializer(serializers.Serializer[Any]):
    code = serializers.SlugField()
    name = serializers.CharField(source="__str__")
    description = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()
    minimum_notice_seconds = serializers.SerializerMethodField(
        help_text="Working time of the agent needed between now and a call's start."
    )
    horizon_seconds = serializers.SerializerMethodField(help_text="How far ahead calls are booked.")
    video_meeting = serializers.SerializerMethodField(
        help_text="True: calls meet by video, no phone number is asked for."
    )

    def get_description(self, call_type: CallType) -> str:
        return str(CALL_TYPE_DESCRIPTIONS.get(call_type.code, ""))

    def get_duration_seconds(self, call_type: CallType) -> int:
        return seconds(call_type.duration)

    def get_minimum_notice_seconds(self, call_type: CallType) -> int:
        return seconds(call_type.minimum_notice)

    def get_horizon_seconds(self, call_type: CallType) -> int:
        return seconds(call_type.horizon)

    def get_video_meeting(self, call_type: CallType) -> bool:
        return bool(call_type.video_url)


class CallSlotSerializer(serializers.Serializer[offers.OfferedSlot]):
    starts_at = UtcDateTimeField(source="start")
    ends_at = UtcDateTimeField(source="end")
    agent = PersonSerializer()
    standing_in = serializers.BooleanField(
        help_text="The backup agent takes this call while the dedicated agent is away."
    )


class CallSlotsSerializer(serializers.Serializer[Any]):
    call_type = serializers.SlugField()
    zone = serializers.CharField(help_text="The zone `from` was read in: your profile's.")
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    slots = CallSlotSerializer(many=True)


class CallBookingSerializer(serializers.ModelSerializer[Booking]):
    call_type = serializers.SlugField(source="call_type.code")
    call_type_name = serializers.CharField(source="call_type.__str__")
    status = serializers.CharField(help_text="confirmed, cancelled, completed or no_show.")
    starts_at = UtcDateTimeField()
    ends_at = UtcDateTimeField()
    agent = PersonSerializer()
    customer = PersonSerializer()
    company = CompanySerializer()
    ticket = serializers.IntegerField(source="ticket_id", allow_null=True)
    phone_number = serializers.SerializerMethodField(
        help_text="The number the agent calls (E.164); empty for a video meeting."
    )
    video_url = serializers.SerializerMethodField(help_text="The video meeting, if it is one.")
    cancelled_at = UtcDateTimeField(allow_null=True)
    cancelled_by = PersonSerializer(allow_null=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    url = serializers.SerializerMethodField(help_text="The call's page in the portal.")

    class Meta:
        model = Booking
        fields = [
            "id",
            "call_type",
            "call_type_name",
            "status",
            "starts_at",
            "ends_at",
            "agent",
            "customer",
            "company",
            "topic",
            "ticket",
            "phone_number",
            "video_url",
            "cancelled_at",
            "cancelled_by",
            "cancel_message",
            "created_at",
            "updated_at",
            "url",
        ]

    def get_phone_number(self, booking: Booking) -> str:
        location = booking.location
        if location is None or location.phone is None:
            return ""
        return str(location.phone.as_e164) if location.phone.is_valid() else str(location.phone)

    def get_video_url(self, booking: Booking) -> str:
        location = booking.location
        return location.video_url if location is not None else ""

    @extend_schema_field(serializers.CharField())
    def get_url(self, booking: Booking) -> str:
        staff = self.context.get("staff", False)
        return reverse("scheduling:call" if staff else "scheduling:booking", args=[booking.pk])


class CallBookingDetailSerializer(CallBookingSerializer):
    change_refusal = serializers.CharField(
        allow_null=True,
        help_text=(
            "Customers: why you can no longer move or cancel the call; null while you can. "
            "Staff: always null."
        ),
    )

    class Meta(CallBookingSerializer.Meta):
        fields = [*CallBookingSerializer.Meta.fields, "change_refusal"]


class CallBookingPageSerializer(serializers.Serializer[Any]):
    next = serializers.CharField(allow_null=True, help_text="The next page's address, or null.")
    previous = serializers.CharField(allow_null=True)
    results = CallBookingSerializer(many=True)


def booking_detail_data(request: Request, booking: Booking) -> dict[str, Any]:
    user = _user(request)
    staff = is_staff_member(user)
    booking.change_refusal = (  # type: ignore[attr-defined]
        None if staff else bookings.booking_change_refusal(booking=booking, by=user)
    )
    return CallBookingDetailSerializer(booking, context={"staff": staff}).data


# ---------------------------------------------------------------------------- call types and times


class CallTypeListApi(APIView):
    """The call types the caller's company can book (customers with the add-on)."""

    permission_classes = [IsCustomer]

    @extend_schema(responses=CallTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        _booking_company(request)
        call_types = selectors.call_types_active()
        return Response(CallTypeSerializer(call_types, many=True).data)


class CallSlotListApi(APIView):
    """The free start times the booking page offers, each with the agent who takes the call."""

    permission_classes = [IsCustomer]

    @extend_schema_serializer(component_name="CallSlotFilter")
    class FilterSerializer(serializers.Serializer[Any]):
        locals()["from"] = serializers.DateField(
            required=False, help_text="The first day, in your profile's zone (default: today)."
        )
        days = serializers.IntegerField(
            min_value=1, max_value=MAX_SLOT_DAYS, required=False, help_text="Default 7."
        )
        booking = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="The times to move this call of yours to (its own time counts as free).",
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=CallSlotsSerializer,
    )
    def get(self, request: Request, code: str) -> Response:
        company = _booking_company(request)
        call_type = get_object_or_404(selectors.call_types_active(), code=code)
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = query.validated_data
        zone = _zone(_user(request))
        now = timezone.now()
        today = now.astimezone(zone).date()
        first: datetime.date = fields.get("from", today)
        if not today <= first <= today + MAX_SLOT_AHEAD:
            raise exceptions.ValidationError(
                {"from": [_("Ask for a day from today to a year ahead.")]}
            )
        last = first + datetime.timedelta(days=fields.get("days", 7) - 1)
        booking = None
        if "booking" in fields:
            booking = _visible_booking(request, fields["booking"])
            if booking.call_type_id != call_type.pk:
                raise exceptions.ValidationError({"booking": [_("This call is of another type.")]})
        window = (_midnight(first, zone), _midnight(last + datetime.timedelta(days=1), zone))
        found: list[offers.OfferedSlot] = []
        week = Week.containing(first, zone)
        # The page's offer is a week at a time; the asked days are cut out of the weeks they span.
        while week.monday <= last:
            found.extend(
                slot
                for slot in offers.offered_slots(
                    company=company, call_type=call_type, week=week, now=now, booking=booking
                )
                if window[0] <= slot.start < window[1]
            )
            week = week.next
        found.sort(key=lambda slot: (slot.start, slot.agent.pk))
        data = {
            "call_type": call_type.code,
            "zone": zone.key,
            "first_day": first,
            "last_day": last,
            "slots": found,
        }
        return Response(CallSlotsSerializer(data).data)


# ---------------------------------------------------------------------------- bookings


class BookingPagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-starts_at", "-pk")


class BookingListApi(APIView):
    """GET: the company's calls (staff: the calls they may open). POST: book a call."""

    permission_classes = [IsCustomerOrStaff]

    @extend_schema_serializer(component_name="CallBookingFilter")
    class FilterSerializer(serializers.Serializer[Any]):
        when = serializers.ChoiceField(
            choices=["upcoming", "past"],
            required=False,
            help_text="upcoming (not ended, soonest first) or past (ended, latest first); "
            "without it, every call, latest first.",
        )
        status = serializers.ChoiceField(choices=BookingStatus.values, required=False)
        company = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text="Staff only."
        )
        agent = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text="Staff only."
        )

    @extend_schema_serializer(component_name="CallBookingCreate")
    class InputSerializer(serializers.Serializer[Any]):
        call_type = serializers.SlugField(max_length=50)
        starts_at = InstantField(help_text="One of the offered start times.")
        agent = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="The agent the offered time names; default: whoever takes calls then.",
        )
        topic = serializers.CharField(
            max_length=200,
            error_messages={
                "required": gettext_lazy("Tell your agent what the call is about."),
                "blank": gettext_lazy("Tell your agent what the call is about."),
            },
        )
        ticket = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            allow_null=True,
            help_text="One of your company's open tickets the call is about.",
        )
        phone_number = serializers.CharField(
            max_length=40,
            required=False,
            allow_blank=True,
            help_text="The number your agent calls (default: your profile's); not for video calls.",
        )

    @extend_schema(
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=CallBookingPageSerializer,
        operation_id="v1_bookings_list",
    )
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = query.validated_data
        calls = _calls_visible(request)
        now = timezone.now()
        paginator = BookingPagination()
        if fields.get("when") == "upcoming":
            calls = calls.filter(ends_at__gt=now)
            paginator.ordering = ("starts_at", "pk")
        elif fields.get("when") == "past":
            calls = calls.filter(ends_at__lte=now)
        if "status" in fields:
            calls = calls.filter(status=fields["status"])
        staff = is_staff_member(_user(request))
        if staff and "company" in fields:
            calls = calls.filter(company_id=fields["company"])
        if staff and "agent" in fields:
            calls = calls.filter(agent_id=fields["agent"])
        page = paginator.paginate_queryset(calls, request)
        data = CallBookingSerializer(page, many=True, context={"staff": staff}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=InputSerializer, responses={201: CallBookingDetailSerializer})
    def post(self, request: Request) -> Response:
        company = _booking_company(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        customer = _user(request)
        call_type = selectors.call_types_active().filter(code=fields["call_type"]).first()
        if call_type is None:
            raise exceptions.ValidationError(
                {"call_type": [_("No call type you can book has this code.")]}
            )
        start: datetime.datetime = fields["starts_at"]
        end = start + call_type.duration
        # Whom the call is with, as the confirm page decides it from the chosen time.
        agents = selectors.company_call_agents(company=company, start=start, end=end)
        asked = str(fields["agent"]) if "agent" in fields else None
        agent = offers.offered_agent(agents=agents, start=start, end=end, asked=asked)
        if agent is None:
            raise exceptions.ValidationError(
                {
                    "agent" if asked else "starts_at": [
                        _("Pick one of the offered times; they show who the call is with.")
                    ]
                }
            )
        ticket = None
        if fields.get("ticket") is not None:
            ticket = tickets_open_for_company(company=company).filter(pk=fields["ticket"]).first()
            if ticket is None:
                raise exceptions.ValidationError(
                    {"ticket": [_("Pick one of your company's open tickets.")]}
                )
        try:
            booking = bookings.booking_create(
                customer=customer,
                agent=agent,
                call_type=call_type,
                starts_at=start,
                topic=fields["topic"],
                phone_number=fields.get("phone_number") or _usual_number(customer),
                ticket=ticket,
            )
        except SlotTaken as taken:
            raise _conflict(taken) from taken
        return Response(
            booking_detail_data(request, _visible_booking(request, booking.pk)),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:booking", args=[booking.pk])},
        )


def _usual_number(customer: User) -> str:
    """The customer's own number, which the booking form offers and a post without one means."""
    number = customer.phone_number
    if number and number.is_valid():
        return str(number.as_international)
    return str(number) if number else ""


class BookingDetailApi(APIView):
    permission_classes = [IsCustomerOrStaff]

    @extend_schema(responses=CallBookingDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(booking_detail_data(request, _visible_booking(request, pk)))


class BookingMoveApi(APIView):
    """Move a call to another free time: its customer, up to the minimum notice."""

    permission_classes = [IsCustomer]

    @extend_schema_serializer(component_name="CallBookingMove")
    class InputSerializer(serializers.Serializer[Any]):
        starts_at = InstantField(help_text="One of the times offered for this call.")

    @extend_schema(request=InputSerializer, responses=CallBookingDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        booking = _visible_booking(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bookings.booking_reschedule(
                booking=booking, starts_at=data.validated_data["starts_at"], by=_user(request)
            )
        except SlotTaken as taken:
            raise _conflict(taken) from taken
        return Response(booking_detail_data(request, _visible_booking(request, pk)))


class BookingCancelApi(APIView):
    """Cancel a call: its customer (reason optional, up to the minimum notice), or its agent or
    a manager (reason required: the customer is told why)."""

    permission_classes = [IsCustomerOrStaff]

    @extend_schema_serializer(component_name="CallBookingCancel")
    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(
            max_length=2000,
            required=False,
            allow_blank=True,
            help_text="A word to the agent (customers, optional) or to the customer (staff, "
            "required).",
        )

    @extend_schema(request=InputSerializer, responses=CallBookingDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        booking = _visible_booking(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data.get("reason", "")
        user = _user(request)
        try:
            if is_staff_member(user):
                bookings.booking_cancel_by_agent(booking=booking, by=user, message=reason)
            else:
                bookings.booking_cancel_by_customer(booking=booking, by=user, message=reason)
        except DjangoValidationError as error:
            raise _renamed(error, {"cancel_message": "reason"}) from error
        return Response(booking_detail_data(request, _visible_booking(request, pk)))
