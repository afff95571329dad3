"""Thin Celery tasks for scheduling: they load by id and call a service, nothing else."""

from celery import shared_task

from scheduling import emails, feeds, reminders


@shared_task(acks_late=True, expires=600)
def send_call_emails() -> int:
    """Send the call e-mails waiting in the outbox (enqueued when a booking changes)."""
    return emails.call_emails_send_pending()


@shared_task(acks_late=True, expires=55)
def send_due_reminders() -> int:
    """Queue the 24-hour and 1-hour reminders that are due, each exactly once, and send the
    outbox (which also catches e-mails whose on-commit task never reached the broker)."""
    return reminders.reminders_send_due()


@shared_task(acks_late=True, expires=600)
def refresh_busy_feeds() -> int:
    """Fetch every agent's external busy-time feed, keeping the last good copy on failure."""
    return feeds.busy_feeds_refresh()
