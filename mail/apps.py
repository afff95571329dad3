from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("E-mail channel")

    def ready(self) -> None:
        from mail.receivers import on_ticket_changed
        from tickets.signals import ticket_changed

        ticket_changed.connect(on_ticket_changed, dispatch_uid="mail.on_ticket_changed")
