"""The agents' queue, in the page's order: breached, then due soonest, severity, age."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from api.permissions import IsStaff
from api.serializers import TicketSerializer
from tickets.models import OPEN_STATUSES
from tickets.queue import PAGE_SIZE, Cursor, View, filters_from_query, queue_page


class QueueTicketSerializer(TicketSerializer):
    is_vip = serializers.BooleanField(help_text="The company holds the dedicated-agent add-on.")

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "is_vip"]


class QueuePageSerializer(serializers.Serializer[Any]):
    next = serializers.CharField(
        allow_null=True, help_text="Pass as `after` for the next page; null on the last."
    )
    results = QueueTicketSerializer(many=True)


class QueueApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="QueueFilter")
    class FilterSerializer(serializers.Serializer[Any]):
        view = serializers.ChoiceField(choices=View.CHOICES, required=False)
        severity = serializers.IntegerField(min_value=1, max_value=5, required=False)
        status = serializers.ChoiceField(choices=OPEN_STATUSES, required=False)
        company = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
        assignee = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
        breached = serializers.BooleanField(required=False, help_text="Only breached tickets.")
        after = serializers.CharField(max_length=400, required=False)
        page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=QueuePageSerializer)
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fields = query.validated_data
        after = None
        if "after" in fields:
            after = Cursor.decode(fields["after"])
            if after is None:
                raise serializers.ValidationError({"after": [_("This is not a queue cursor.")]})
        user = request.user
        default_view = View.TIER_2 if getattr(user, "role", None) == Role.SENIOR else View.ALL
        data = {
            name: str(value)
            for name, value in fields.items()
            if name not in ("breached", "after", "page_size")
        }
        if fields.get("breached"):
            data["breached"] = "1"
        filters = filters_from_query(data=data, default_view=default_view)
        page = queue_page(
            user=user,  # type: ignore[arg-type]
            filters=filters,
            after=after,
            size=fields.get("page_size", PAGE_SIZE),
        )
        # The page's rows come without their requesters (the HTML queue does not show them):
        # one query for all of them, not one per row.
        prefetch_related_objects(page.tickets, "requester")
        return Response(
            {
                "next": page.next_cursor.encode() if page.next_cursor else None,
                "results": QueueTicketSerializer(
                    page.tickets, many=True, context={"staff": True}
                ).data,
            }
        )
