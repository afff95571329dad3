"""Thin Celery tasks for tickets: they call a service and nothing else."""

from celery import shared_task

from tickets import services


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
    acks_late=True,
    expires=600,
)
def send_pending_notification_emails() -> int:
    """E-mail the notifications not yet e-mailed; a failure is retried with backoff."""
    return services.notifications_send_pending()
