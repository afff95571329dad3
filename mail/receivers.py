"""The e-mail channel's side of `tickets.signals.ticket_changed`: staff replies go out by mail."""

from typing import Any

from tickets.signals import ChangeKind, TicketChange


def on_ticket_changed(sender: Any, *, change: TicketChange, **kwargs: Any) -> None:
    if change.kind == ChangeKind.STAFF_PUBLIC_REPLY and change.message is not None:
        from mail.outgoing import reply_send

        reply_send(message=change.message, now=change.at)
