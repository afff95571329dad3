"""Scheduled the call-reminder scan and the busy-feed refresh in Celery Beat; the schedule now
lives in `vipsupport/beat.py`, synced to django-celery-beat's tables after every migrate, so this
migration does nothing and stays as a node of the migration graph."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_reminders_and_feeds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
