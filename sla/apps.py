from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from sla.receivers import on_ticket_changed, on_tickets_created
        from tickets.signals import ticket_changed, tickets_created

        ticket_changed.connect(on_ticket_changed, dispatch_uid="sla.on_ticket_changed")
        tickets_created.connect(on_tickets_created, dispatch_uid="sla.on_tickets_created")
