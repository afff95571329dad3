"""`manage.py mail_server --port 2525`: receive mail over SMTP (in production, behind the MX)."""

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mail.smtp import smtp_controller


class Command(BaseCommand):
    help = "Receive e-mail for the portal's addresses over SMTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        controller = smtp_controller(host=host, port=port)
        controller.start()
        self.stdout.write(f"Receiving mail on {host}:{port}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
