"""Thin Celery tasks for tickets: they call a service and nothing else."""

from celery import shared_task

from tickets import services


@shared_task(acks_late=True, expires=600)
def queue_notification_emails() -> int:
    """Write the e-mails of new notifications to the outbox (which sends them)."""
    return services.notifications_queue_emails()
