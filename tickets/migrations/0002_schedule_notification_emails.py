"""Scheduled the once-a-minute e-mail of pending notifications in Celery Beat; the schedule now
lives in `vipsupport/beat.py`, synced to django-celery-beat's tables after every migrate, so this
migration does nothing and stays as a node of the migration graph."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
