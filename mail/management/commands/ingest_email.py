"""`manage.py ingest_email < message.eml`: an MTA's pipe transport hands one message over stdin.

Exit status 75 (EX_TEMPFAIL) when it could not be stored, so the MTA queues it and tries again.
"""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from mail.models import Transport
from mail.services import mail_ingest

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Read one e-mail from standard input and act on it (open a ticket, add a reply…)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sender", help="The envelope sender (Postfix: ${sender}).")
        parser.add_argument(
            "--recipient", action="append", default=[], help="Envelope recipient (repeatable)."
        )

    def handle(self, *args: Any, sender: str | None, recipient: list[str], **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            inbound = mail_ingest(
                raw=raw,
                received_at=timezone.now(),
                transport=Transport.PIPE,
                envelope_sender=sender,
                envelope_recipients=recipient,
            )
        except Exception as error:
            self.stderr.write(f"Not stored, try again later: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{inbound.message_id}: {inbound.get_state_display()}")
