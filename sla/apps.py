from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from sla.receivers import on_ticket_changed
        from tickets.signals import ticket_changed

        ticket_changed.connect(on_ticket_changed, dispatch_uid="sla.on_ticket_changed")
