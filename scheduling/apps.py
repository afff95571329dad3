from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from scheduling.models import Booking
        from scheduling.receivers import on_booking_deleted

        post_delete.connect(
            on_booking_deleted, sender=Booking, dispatch_uid="scheduling.on_booking_deleted"
        )
