"""Thin Celery tasks for the chat: they call a service and nothing else."""

from celery import shared_task
from django.utils import timezone

from chat import services


@shared_task(acks_late=True)
def alert_chat_backup(conversation_id: int) -> bool:
    """Alert the backup of one VIP chat if it still waits (scheduled for its 2-minute mark)."""
    return services.conversation_alert_backup(conversation_id=conversation_id, now=timezone.now())


@shared_task(acks_late=True, expires=25)
def alert_waiting_chat_backups() -> int:
    """Alert the backups of every VIP chat that has waited its 2 minutes."""
    return services.conversations_alert_backups()
