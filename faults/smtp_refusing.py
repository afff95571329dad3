"""The SMTP server refusing every message (451, try again later) for 10 minutes.

Deadlines fall due and customers open tickets throughout, so notices and e-mails pile up; each
e-mail row is retried on its own with back-off (2, 4, 8 … minutes), and once the server takes
mail again every one of them arrives exactly once. `--minutes` shortens the refusal.
"""

import argparse
import datetime
import sys
import time

from faults.stack import Stack, Traffic, log


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    refusal = parser.parse_args(argv).minutes * 60
    with Stack("smtp_refusing") as stack:
        from django.utils import timezone

        stack.start_worker()
        stack.start_beat()
        log(f"the SMTP server refuses mail for {refusal:.0f} s")
        stack.smtp.refusing = True
        now = timezone.now()
        due = [now + datetime.timedelta(seconds=n * refusal / 30) for n in range(1, 30)]
        tickets = stack.seed_tickets(due)
        traffic = Traffic(stack, every=10)
        traffic.start()
        time.sleep(max(0.0, refusal - (timezone.now() - now).total_seconds()))
        notes = [traffic.stop()]
        stack.smtp.refusing = False
        log("the SMTP server takes mail again")
        notes.append(f"{stack.smtp.refused} messages refused during the outage")
        # The last retries of the first refused e-mails come 2 + 4 + 8 = 14 minutes after them.
        return stack.verdict(
            "smtp_refusing_10min",
            tickets=tickets + traffic.opened,
            notes=notes,
            timeout=refusal + 20 * 60,
        )


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
