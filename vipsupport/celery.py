"""The Celery application; configuration comes from Django settings prefixed with CELERY_."""

import os

from celery import Celery

# Connects the signals that carry the request id into tasks and give workers the project's logs.
import vipsupport.celery_logs  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipsupport.settings.local")

app = Celery("vipsupport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
