"""Voicemail recordings into our own storage: fetched from the provider's configured hosts only
(never a private address), with its credentials, retried by the task until it has it."""

from __future__ import annotations

import datetime
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from vipsupport.fetch import FetchError, fetch
from vipsupport.write_lock import sqlite_write_lock
from voice.models import Voicemail

logger = logging.getLogger(__name__)

MAX_RECORDING_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 30.0
# Recordings come as WAV by default; MP3 is a tenth of the size (Twilio: append the extension).
RECORDING_FORMAT = ".mp3"
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav", "audio/ogg"})


def voicemail_fetch(*, voicemail_id: int, now: datetime.datetime) -> bool:
    """Download the recording once; True when we have it (now or before). Raises `FetchError`
    when the provider could not be reached, so the task tries again."""
    voicemail = Voicemail.objects.get(pk=voicemail_id)
    if voicemail.audio:
        return True
    url = voicemail.recording_url
    if "." not in urlsplit(url).path.rsplit("/", 1)[-1]:  # Twilio's address names no format
        url += RECORDING_FORMAT
    sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    try:
        fetched = fetch(
            url,
            max_bytes=MAX_RECORDING_BYTES,
            timeout=FETCH_TIMEOUT_SECONDS,
            accept="audio/*",
            allow_private=settings.VOICE_RECORDING_ALLOW_PRIVATE_HOSTS,
            allowed_hosts=settings.VOICE_RECORDING_HOSTS,
            auth=(sid, token) if sid and token else None,
        )
        if fetched.content_type not in AUDIO_TYPES:
            raise FetchError(f"not audio: {fetched.content_type}")
    except FetchError as error:
        Voicemail.objects.filter(pk=voicemail.pk).update(
            fetch_attempts=voicemail.fetch_attempts + 1, fetch_error=str(error)[:1000]
        )
        logger.warning("Voicemail %s: recording not fetched: %s", voicemail.pk, error)
        raise
    with transaction.atomic():
        sqlite_write_lock()  # before reading: SQLite refuses to upgrade a reader to a writer
        locked = Voicemail.objects.select_for_update().get(pk=voicemail.pk)
        if locked.audio:  # another run got it meanwhile
            return True
        locked.audio.save("recording", ContentFile(fetched.body), save=False)
        locked.audio_type = fetched.content_type
        locked.fetched_at = now
        locked.fetch_error = ""
        locked.save(update_fields=["audio", "audio_type", "fetched_at", "fetch_error"])
    return True
