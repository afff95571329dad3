"""Development settings: no environment needed (SQLite, filesystem broker, console e-mail)."""

from .base import *  # noqa: F403
from .base import (
    BASE_DIR,
    REDIS_BROKER_TRANSPORT_OPTIONS,
    TEXT_LOG_FORMAT,
    env,
    logging_config,
)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-only-not-secret-6c1f0e7a2b9d4e8f")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

_broker_dir = BASE_DIR / "var" / "celery-broker"
for _folder in ("out", "processed", "control"):
    (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)

# Without REDIS_URL, Celery talks through kombu's filesystem transport so no broker is needed.
CELERY_BROKER_URL = env("REDIS_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    REDIS_BROKER_TRANSPORT_OPTIONS
    if CELERY_BROKER_URL.startswith("redis")
    else {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
    }
)
CELERY_RESULT_BACKEND = None

# The covering indexes' INCLUDE columns are a PostgreSQL refinement; SQLite just ignores them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# The voice webhooks need a signing token; `manage.py simulate_call` signs with this one.
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="local-development-voice-token")
# `simulate_call` hands the portal its own demo recording to fetch.
VOICE_RECORDING_HOSTS = ["127.0.0.1", "localhost", "api.twilio.com", "*.twiliocdn.com"]
VOICE_RECORDING_ALLOW_PRIVATE_HOSTS = True
# Webhook receivers on this machine (127.0.0.1) and plain http are fine while developing.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=True)

# Daphne's `runserver` writes an access line for each request: ours (with the ids) would double it.
LOGGING = logging_config(
    formatter={"format": TEXT_LOG_FORMAT}, levels={"vipsupport.requests": "WARNING"}
)
