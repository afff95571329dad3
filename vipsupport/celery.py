"""The Celery application; configuration comes from Django settings prefixed with CELERY_."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipsupport.settings.local")

app = Celery("vipsupport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
