"""The project package as an app of its own: it owns the Celery Beat schedule (`vipsupport.beat`)
and the `sync_beat_schedule` command. It has no models, templates or migrations."""

from django.apps import AppConfig, apps


class VipsupportConfig(AppConfig):
    name = "vipsupport"
    verbose_name = "VIP support portal"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from vipsupport.beat import sync_after_migrate

        # post_migrate is sent once per app that has models, after the whole migration plan has
        # run; this package has none, so the sync listens to django-celery-beat's, the app whose
        # tables it writes.
        post_migrate.connect(
            sync_after_migrate,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="vipsupport.beat.sync_after_migrate",
        )
