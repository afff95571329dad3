"""Thin Celery tasks for scheduling: they load by id and call a service, nothing else."""

from celery import shared_task

from scheduling.services import feeds, reminders


@shared_task(acks_late=True, expires=55)
def send_due_reminders() -> int:
    """Write the 24-hour and 1-hour reminders that are due to the outbox, each exactly once
    (the outbox sends them)."""
    return reminders.reminders_queue_due()


@shared_task(acks_late=True, expires=600)
def refresh_busy_feeds() -> int:
    """Fetch every agent's external busy-time feed, keeping the last good copy on failure."""
    return feeds.busy_feeds_refresh()


@shared_task(acks_late=True, expires=600)
def refresh_busy_feed(feed_id: int) -> bool:
    """Fetch one busy-time feed (enqueued when an agent adds its address)."""
    return feeds.busy_feed_refresh(feed_id=feed_id)
