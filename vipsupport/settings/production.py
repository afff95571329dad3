"""Production settings: every secret comes from the environment, with no default."""

from .base import *  # noqa: F403
from .base import env, logging_config, redis_channel_layers, replica_database

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),  # e.g. ?sslmode=require in DATABASE_URL
    # JIT compilation costs more than it saves on the reports' short, index-driven queries, and
    # the reports' percentile sorts of a month of targets (~20 MB at 1M tickets) must not spill.
    "options": "-c jit=off -c work_mem=32MB",
    # How this portal's connections show in pg_stat_activity.
    "application_name": env("DATABASE_APPLICATION_NAME", default="vipsupport"),
    # One connection pool per process. Under ASGI each request runs its sync view in a thread of
    # its own, so persistent per-thread connections (CONN_MAX_AGE) grow with the concurrent
    # requests until PostgreSQL refuses clients; the pool caps them and requests wait their turn.
    "pool": {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),  # seconds to wait for one
    },
}
DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pooled connection goes back to the pool instead
# The pool tries a connection (one empty round trip) before handing it out: after PostgreSQL
# restarts, every idle pooled connection is dead, and each would otherwise fail one request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env("DATABASE_REPLICA_URL", default=""):
    # Reports read a streaming replica (README "Read replica"), with a pool of its own.
    DATABASES["replica"] = replica_database(env("DATABASE_REPLICA_URL"), DATABASES["default"])
    DATABASE_ROUTERS = ["vipsupport.db_router.ReplicaRouter"]

REDIS_URL = env("REDIS_URL")
CACHES = {"default": {"BACKEND": "vipsupport.cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
CHANNEL_LAYERS = redis_channel_layers(REDIS_URL)
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

EMAIL_CONFIG = env.email("DJANGO_EMAIL_URL")
PORTAL_URL = env("DJANGO_PORTAL_URL")
vars().update(EMAIL_CONFIG)

# TLS terminates at the reverse proxy, which tells us the original scheme.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# One JSON object per line on stderr (README "Logs"). uvicorn's own lines go the same way; its
# access lines are silenced because `vipsupport.requests` writes one per request, with the ids.
LOGGING = logging_config(
    formatter={"()": "vipsupport.log_format.JsonFormatter"},
    levels={"uvicorn": "INFO", "uvicorn.access": "WARNING"},
)
