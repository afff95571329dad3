"""What the API answers with: tickets, their messages and SLA targets, people in brief.

Input is read by each view's own serializer (HackSoft's InputSerializer); these are the shared
output shapes.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from api.fields import ApiModelSerializer, UtcDateTimeField, seconds
from sla.models import SlaTarget
from tickets.models import Attachment, Ticket, TicketMessage


class PersonSerializer(serializers.Serializer[User]):
    id = serializers.IntegerField()
    name = serializers.CharField(source="get_full_name")


class CompanySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RequesterSerializer(PersonSerializer):
    email = serializers.EmailField()


class TicketSerializer(ApiModelSerializer):
    company = CompanySerializer()
    requester = RequesterSerializer()
    assignee = PersonSerializer(allow_null=True)
    sla_due_at = UtcDateTimeField(
        allow_null=True, help_text="The next SLA deadline, if a target is running."
    )
    url = serializers.SerializerMethodField(help_text="The ticket's page in the portal.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "severity",
            "status",
            "channel",
            "tier",
            "company",
            "requester",
            "assignee",
            "created_at",
            "updated_at",
            "sla_due_at",
            "url",
        ]

    @extend_schema_field(serializers.CharField())
    def get_url(self, ticket: Ticket) -> str:
        staff = self.context.get("staff", False)
        return reverse("tickets:work" if staff else "tickets:detail", args=[ticket.pk])


class AttachmentSerializer(ApiModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField(help_text="Download it in the portal.")

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "url"]

    @extend_schema_field(serializers.CharField())
    def get_url(self, attachment: Attachment) -> str:
        return reverse("tickets:attachment", args=[attachment.pk])


class MessageSerializer(ApiModelSerializer):
    author = PersonSerializer(allow_null=True)
    side = serializers.SerializerMethodField(
        help_text="Who wrote it: staff, customer, or system (automatic)."
    )
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "author",
            "side",
            "visibility",
            "is_automatic",
            "body",
            "body_html",
            "created_at",
            "attachments",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=["staff", "customer", "system"]))
    def get_side(self, message: TicketMessage) -> str:
        if message.author is None or message.is_automatic:
            return "system"
        return "customer" if message.author.company_id is not None else "staff"


class SlaTargetSerializer(ApiModelSerializer):
    target_seconds = serializers.SerializerMethodField(help_text="The promised time, in seconds.")

    class Meta:
        model = SlaTarget
        fields = [
            "kind",
            "severity",
            "target_seconds",
            "clock",
            "started_at",
            "warn_at",
            "due_at",
            "state",
            "warned_at",
            "fulfilled_at",
            "breached_at",
        ]

    def get_target_seconds(self, target: SlaTarget) -> int:
        return seconds(target.target)


class TicketDetailSerializer(TicketSerializer):
    cc = RequesterSerializer(many=True, source="cc_list")
    description_files = AttachmentSerializer(many=True)
    messages = MessageSerializer(many=True, source="thread_messages")
    sla_targets = SlaTargetSerializer(many=True, source="target_list")

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "description",
            "description_html",
            "cc",
            "description_files",
            "messages",
            "sla_targets",
        ]
