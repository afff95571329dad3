from django.contrib import admin

from chat.models import AgentPresence, ChatMessage, Conversation


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    fields = ["created_at", "side", "author", "body"]
    readonly_fields = ["created_at", "side", "author", "body"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["pk", "company", "customer", "door", "is_vip", "status", "agent", "created_at"]
    list_filter = ["status", "door", "is_vip"]
    search_fields = ["company__name", "customer__email"]
    raw_id_fields = ["company", "customer", "requested_agent", "backup_agent", "agent", "ticket"]
    readonly_fields = ["created_at", "taken_at", "closed_at", "last_message_at"]
    inlines = [ChatMessageInline]
    date_hierarchy = "created_at"


@admin.register(AgentPresence)
class AgentPresenceAdmin(admin.ModelAdmin):
    list_display = ["agent", "status", "seen_at"]
