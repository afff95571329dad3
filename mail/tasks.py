"""Thin Celery tasks for the e-mail channel: they call a service and nothing else."""

from celery import shared_task

from mail import imap, services


@shared_task(acks_late=True, expires=55)
def poll_imap() -> int:
    """Take new mail from the hosted mailbox (`MAIL_IMAP_URL`), if one is configured."""
    return imap.imap_poll_configured()


@shared_task(acks_late=True, expires=55)
def process_waiting_mail() -> int:
    """Act on mail stored but never processed (a transport stopped between the two steps)."""
    return services.mails_process_waiting()
