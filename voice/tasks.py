"""Thin Celery tasks for the phone channel: they call a service and nothing else."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from vipsupport.fetch import FetchError
from voice.recordings import voicemail_fetch


@shared_task(
    acks_late=True,
    # The provider unreachable, or the database busy (SQLite's one writer): try again later.
    autoretry_for=(FetchError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=12,
)
def fetch_recording(voicemail_id: int) -> bool:
    """Bring a voicemail's recording into our storage (retried with back-off for hours)."""
    return voicemail_fetch(voicemail_id=voicemail_id, now=timezone.now())
