"""Thin Celery tasks for the outbox."""

from celery import shared_task

from outbox import services


@shared_task(expires=55)
def send_pending_emails() -> int:
    """Send every e-mail that is due; run after each deciding commit and by Beat every minute."""
    return services.emails_send_pending()


@shared_task(expires=55)
def send_pending_webhooks() -> int:
    """POST every webhook delivery that is due; run after each deciding commit and by Beat."""
    return services.webhooks_send_pending()
