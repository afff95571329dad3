"""Test settings: the real PostgreSQL and Redis the test suite runs against."""

import os

from .base import *  # noqa: F403
from .base import env, redis_channel_layers, replica_database

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/vipsupport")
}
DATABASES["default"]["OPTIONS"] = {"options": "-c jit=off -c work_mem=32MB"}  # as in production
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = replica_database(env("DATABASE_REPLICA_URL"), DATABASES["default"])
    # Under the test runner the alias reads the test database: the suite needs no replica.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["vipsupport.db_router.ReplicaRouter"]
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CACHES = {"default": {"BACKEND": "vipsupport.cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
# Each xdist worker has its own test database, hence its own conversation ids.
CHANNEL_LAYERS = redis_channel_layers(
    REDIS_URL, prefix=f"asgi-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The suite collects no static files: WhiteNoise finds them in the apps (as in development)
# instead of warning on every request that the collected directory is missing.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
TWILIO_ACCOUNT_SID = "ACtest"
TWILIO_AUTH_TOKEN = "test-voice-token"  # noqa: S105
# The webhook tests' receivers listen on 127.0.0.1; the SSRF tests turn this off again.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
