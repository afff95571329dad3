from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from scheduling.signals import booking_changed
        from sla.signals import sla_targets_due
        from tickets.signals import ticket_changed, tickets_created, tickets_escalated
        from webhooks import receivers

        ticket_changed.connect(receivers.on_ticket_changed, dispatch_uid="webhooks.ticket")
        tickets_created.connect(receivers.on_tickets_created, dispatch_uid="webhooks.created")
        tickets_escalated.connect(receivers.on_tickets_escalated, dispatch_uid="webhooks.escalated")
        sla_targets_due.connect(receivers.on_sla_targets_due, dispatch_uid="webhooks.sla")
        booking_changed.connect(receivers.on_booking_changed, dispatch_uid="webhooks.booking")
