"""The SMTP receiver: an aiosmtpd handler that takes mail for our addresses and answers 250 only
once the message is stored (`mail_ingest`), so a sender whose delivery fails tries again."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from mail.addresses import mail_recipient_allowed
from mail.models import Transport
from mail.services import mail_ingest

logger = logging.getLogger(__name__)


def _recipient_allowed(address: str) -> bool:
    close_old_connections()
    return mail_recipient_allowed(address)


def _ingest(raw: bytes, sender: str, recipients: list[str]) -> None:
    close_old_connections()  # a long-running server must not keep a connection the database dropped
    mail_ingest(
        raw=raw,
        received_at=timezone.now(),
        transport=Transport.SMTP,
        envelope_sender=sender,
        envelope_recipients=recipients,
    )


class MailHandler:
    """aiosmtpd calls these; Django's database work runs in its sync thread."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if not await sync_to_async(_recipient_allowed)(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        sender = "" if envelope.mail_from in ("", "<>") else str(envelope.mail_from)
        try:
            await sync_to_async(_ingest)(raw, sender, list(envelope.rcpt_tos))
        except Exception:
            logger.exception("Could not store a message from %s", sender or "<>")
            return "451 4.3.0 Could not store the message; try again later"
        return "250 2.0.0 Stored"


def smtp_controller(*, host: str, port: int) -> Any:
    """An aiosmtpd controller for `MailHandler` that refuses messages over `MAIL_MAX_BYTES`
    (it announces the SIZE limit, so a sender knows before it sends)."""
    from aiosmtpd.controller import Controller

    return Controller(
        MailHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.MAIL_MAX_BYTES,
        server_hostname=settings.MAIL_GENERAL_ADDRESS.partition("@")[2],
        ident="VIP Support mail receiver",
    )
