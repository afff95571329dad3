"""Settings shared by every environment; the environment-specific modules extend these."""

import copy
import datetime
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.utils.translation import gettext_lazy as _

# Lets generic Django classes (ModelAdmin[Company], QuerySet[User]) be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    # First: its `runserver` serves the ASGI application, websockets included (`make run`).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "phonenumber_field",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here rather than a CDN
    "outbox",
    "desk",
    "accounts",
    "tickets",
    "sla",
    "scheduling",
    "mail",
    "voice",
    "chat",
    "webhooks",
    "audit",
    "vipsupport",  # the project's own app: the Celery Beat schedule (vipsupport/beat.py)
]

MIDDLEWARE = [
    # First: answers /health/ and /health/full/ before the HTTPS redirect, the host check, the
    # session and sign-in, so a load balancer's plain probe by IP gets the truth (README "Health").
    "vipsupport.health.HealthEndpointMiddleware",
    # Next, so every later line of the request logs its id (README "Logs").
    "vipsupport.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from the app: production's collected, hashed and compressed files.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session's, so its writes count too: the writer then reads the primary.
    "vipsupport.db_router.AfterWriteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so the lockout page it answers with is rendered in the visitor's language.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vipsupport.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "tickets.context_processors.notification_bell",
            ],
        },
    },
    {
        # E-mail subjects and plain-text bodies: text, not HTML, so nothing is entity-escaped.
        # Only `vipsupport.mail.render_plain_text` uses it; pages render with the engine above.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

WSGI_APPLICATION = "vipsupport.wsgi.application"
ASGI_APPLICATION = "vipsupport.asgi.application"

# The chat's websockets talk through a channel layer: in memory for one development process;
# production and the tests use Redis (channels-redis), shared by every server process.
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}


def redis_channel_layers(url: str, *, prefix: str = "asgi") -> dict[str, dict[str, Any]]:
    """Channels over Redis (channels-redis), for every process that holds or feeds sockets.

    redis-py 8 gives up on a read after 5 s, while the layer's connections wait as long as it
    takes for the next message: with the defaults a quiet socket died after 5 s. Its pool also
    refuses, rather than waits, past 100 connections, which a burst of disconnects reached.
    """
    host = {"address": url, "socket_timeout": None, "max_connections": 10_000}
    return {
        "default": {
            # Pub/sub: each message goes straight to the processes that hold its sockets, with
            # no queue to poll. Nothing is kept for a socket that is gone, which the chat does
            # not need: messages are stored first and a reconnecting socket resumes from them.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [host], "prefix": prefix},
        }
    }


# Chats an agent answers at once before their customers' buttons say "busy".
CHAT_AGENT_CAPACITY = env.int("CHAT_AGENT_CAPACITY", default=3)
# Messages one user may send per window (seconds) on a chat socket.
CHAT_RATE_LIMIT_MESSAGES = env.int("CHAT_RATE_LIMIT_MESSAGES", default=20)
CHAT_RATE_LIMIT_WINDOW = env.int("CHAT_RATE_LIMIT_WINDOW", default=10)

# The REST API (`api`): tokens from the profile page or the browser's session; each token (or
# user, or anonymous address) may make API_THROTTLE_RATE requests ("<n>/<second|minute|hour>").
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="300/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "VIEW_NAME_FUNCTION": "api.schema.view_name",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VIP Support API",
    "DESCRIPTION": (
        "Tickets, the agents' queue, calls and SLA figures, with the portal's own rules. "
        "Authenticate with `Authorization: Bearer <token>` (make a token on your profile page)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs describe the API, never anyone's data: readable without signing in.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketChannelEnum": "tickets.models.Channel",
        "StaffChannelEnum": ["phone", "email", "chat"],
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}
ASGI_APPLICATION = "vipsupport.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A user who wrote reads the primary, not the read replica, for this long (README "Read replica").
DATABASE_REPLICA_AFTER_WRITE_SECONDS = env.int("DATABASE_REPLICA_AFTER_WRITE_SECONDS", default=10)


def replica_database(url: str, primary: dict[str, Any]) -> dict[str, Any]:
    """The read replica's alias: its own address, the primary's options (and pool settings,
    for a pool of its own) unless its URL sets them."""
    replica = env.db_url_config(url)
    replica["OPTIONS"] = {**copy.deepcopy(primary.get("OPTIONS", {})), **replica.get("OPTIONS", {})}
    replica["CONN_MAX_AGE"] = primary.get("CONN_MAX_AGE", 0)
    replica["CONN_HEALTH_CHECKS"] = primary.get("CONN_HEALTH_CHECKS", False)
    return replica


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses a locked-out username + client address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the user with their groups and agent profile. Sessions name
    # the backend that signed them in: those from before it (ModelBackend) were signed out once.
    "accounts.backends.UserBackend",
]
# Every page reads its session: from the cache (Redis in production), the database only on a
# miss; written to both. A Redis outage falls back to the database (`vipsupport.cache`).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:after-login"
LOGOUT_REDIRECT_URL = "login"

# Phone numbers are stored in E.164 (+35924001234); a number typed without its +country code is
# read as a number of this region (ISO 3166 code), so "02 400 1234" is Sofia's +35924001234.
PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default="BG")

# Brute-force protection (django-axes): 10 failed sign-ins for one e-mail from one client address
# lock that pair for 15 minutes (each further try restarts them); attempts are rows in the
# database, so admins see and delete them in the Django admin (Axes → Access attempts).
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_USERNAME_FORM_FIELD = "username"  # what LoginView's AuthenticationForm posts: the e-mail
# The e-mail as the login compares it (lower-cased), so changing its case is not a fresh budget.
AXES_USERNAME_CALLABLE = "accounts.throttle.login_username"
# REMOTE_ADDR, the same client address the password-reset limits use (see accounts.throttle).
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_address"
# The login page again, with the reason, in the visitor's language (HTTP 429).
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("bg", _("Bulgarian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT: Path | None = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"

EMAIL_CONFIG = env.email("DJANGO_EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="VIP Support <support@localhost>")
# Where the portal is reached from outside: links in e-mails and calendar events start with it.
PORTAL_URL = env("DJANGO_PORTAL_URL", default="http://127.0.0.1:8000")
# Busy-time feeds may not point into our own network (SSRF) except in development and tests.
BUSY_FEEDS_ALLOW_PRIVATE_HOSTS = env.bool("BUSY_FEEDS_ALLOW_PRIVATE_HOSTS", default=False)
# Outgoing webhooks may not be POSTed into our own network (SSRF), and their URLs must be https,
# except in development and tests (receivers on 127.0.0.1).
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=False)

# The e-mail channel (`mail`). Every customer may write to the general address; a company with
# the dedicated-agent add-on has its own, named by its mail alias: "domain" style gives
# acme@vip.support.example, "plus" style gives support+acme@support.example (one mailbox).
MAIL_GENERAL_ADDRESS = env("MAIL_GENERAL_ADDRESS", default="support@support.example")
MAIL_DEDICATED_STYLE = env("MAIL_DEDICATED_STYLE", default="domain")
MAIL_DEDICATED_DOMAIN = env("MAIL_DEDICATED_DOMAIN", default="vip.support.example")
# Larger messages are refused with a bounce that says so (SMTP: before they are received).
MAIL_MAX_BYTES = env.int("MAIL_MAX_BYTES", default=20 * 1024 * 1024)
# A hosted mailbox the IMAP poller reads, e.g. imaps://support%40example.com:secret@imap.example.com/INBOX
MAIL_IMAP_URL = env("MAIL_IMAP_URL", default="")

# The phone channel: the support line customers call (VIP companies see it on their home page);
# its telephony provider calls the portal's voice webhooks for every call to it. E.164.
SUPPORT_PHONE_NUMBER = env("SUPPORT_PHONE_NUMBER", default="+35924001234")

# The phone channel (`voice`): the support line's provider (Twilio, or one that speaks its
# webhooks) signs every webhook with the auth token; without one, every webhook is refused.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
VOICE_DIAL_TIMEOUT_SECONDS = env.int("VOICE_DIAL_TIMEOUT_SECONDS", default=20)
VOICEMAIL_MAX_SECONDS = env.int("VOICEMAIL_MAX_SECONDS", default=180)
# Recordings are fetched from these hosts only (and never from a private address).
VOICE_RECORDING_HOSTS: list[str] = env.list(
    "VOICE_RECORDING_HOSTS", default=["api.twilio.com", "*.twiliocdn.com"]
)
VOICE_RECORDING_ALLOW_PRIVATE_HOSTS = env.bool("VOICE_RECORDING_ALLOW_PRIVATE_HOSTS", default=False)

# /health/full/ (vipsupport/health.py): fails when the SLA breach scan (every 30 s on Beat) last
# finished more than HEALTH_BEAT_MAX_AGE_SECONDS ago, or when more than HEALTH_OUTBOX_MAX_OVERDUE
# e-mails or webhook deliveries are still pending HEALTH_OUTBOX_OVERDUE_SECONDS after falling due.
HEALTH_BEAT_MAX_AGE_SECONDS = env.int("HEALTH_BEAT_MAX_AGE_SECONDS", default=120)
HEALTH_OUTBOX_OVERDUE_SECONDS = env.int("HEALTH_OUTBOX_OVERDUE_SECONDS", default=300)
HEALTH_OUTBOX_MAX_OVERDUE = env.int("HEALTH_OUTBOX_MAX_OVERDUE", default=100)

CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
# What makes a dead worker, a broker restart or two Beats harmless (README "Faults", proved by
# `make faults`). Every task is idempotent (scans claim rows with a conditional update or SKIP
# LOCKED; senders claim one outbox row at a time), so running one twice costs nothing and losing
# one is what must not happen:
# - a task's message is acknowledged after it ran, not when it was received, so a worker that dies
#   mid-task leaves it in the broker for another worker;
CELERY_TASK_ACKS_LATE = True
# - also when the pool child running it is killed (SIGKILL, the kernel's OOM killer): the parent
#   hands the message back instead of acknowledging it as failed;
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# - each process holds only the task it runs, so a crash strands one message, not a prefetched row;
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# - a task whose connection to the broker drops is redelivered to another worker; stop it rather
#   than let both run on (Celery 6's default, set here so the behaviour does not depend on it);
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# - a hung task (a stuck SMTP or webhook peer past its own timeouts) is stopped: softly first (the
#   transaction of the batch it is in rolls back), then killed. Well under the visibility timeout;
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_TIME_LIMIT = 600
# - the broker keeps retrying through a Redis outage for as long as it lasts (default: 100 tries).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Redis hands an unacknowledged message (its worker died without a word) to another worker after
# this many seconds. It must exceed the longest task (the hard limit, 600 s) plus the longest
# countdown a task is sent with (a chat's 2-minute backup alert), or a healthy task would run
# twice; a lost message costs nothing meanwhile, because Beat's runs find the same due rows.
REDIS_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"visibility_timeout": 900}
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


# `make run` and the tests: readable lines with the ids in brackets (production writes JSON).
TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(ticket_id)s] %(message)s"


def logging_config(
    *, formatter: dict[str, str], levels: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every line to stderr through one handler that adds the request and ticket ids.

    Each logger in `levels` gets that level and no handler of its own, so its lines go through
    the root's once. Django gives `django` a console handler (with DEBUG on) that also
    propagated to the root's: under `make run` each of its lines, Daphne's access lines among
    them, came out twice.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "vipsupport.logs.ContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "default",
            }
        },
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {
            name: {"handlers": [], "level": level, "propagate": True}
            for name, level in {"django": "INFO", **(levels or {})}.items()
        },
    }


LOGGING = logging_config(formatter={"format": TEXT_LOG_FORMAT})
