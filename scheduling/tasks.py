"""Thin Celery tasks for scheduling: they load by id and call a service, nothing else."""

from celery import shared_task

from scheduling import feeds, invitations, reminders


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
    acks_late=True,
)
def send_booking_invitation(booking_id: int, sequence: int) -> int:
    """E-mail the iMIP invitation (REQUEST or CANCEL) for one version of a booking."""
    return invitations.booking_send_invitation(booking_id=booking_id, sequence=sequence)


@shared_task(acks_late=True, expires=55)
def send_due_reminders() -> int:
    """Send the 24-hour and 1-hour call reminders that are due, each exactly once."""
    return reminders.reminders_send_due()


@shared_task(acks_late=True, expires=600)
def refresh_busy_feeds() -> int:
    """Fetch every agent's external busy-time feed, keeping the last good copy on failure."""
    return feeds.busy_feeds_refresh()
