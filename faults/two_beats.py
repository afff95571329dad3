"""Two Celery Beats running at once (a deploy that started a second one), with two workers.

Every periodic task is sent twice, so scans and senders run concurrently: each claims its rows
(`SKIP LOCKED`, conditional updates), so every breach, notification and e-mail still happens once.
"""

import datetime
import sys
import time

from faults.stack import Stack

RUN_SECONDS = 150


def main() -> bool:
    with Stack("two_beats") as stack:
        from django.utils import timezone

        now = timezone.now()
        due = [now + datetime.timedelta(seconds=10 + 2 * n) for n in range(60)]
        tickets = stack.seed_tickets(due)
        stack.start_worker("worker1")
        stack.start_worker("worker2")
        stack.start_beat("beat1")
        stack.start_beat("beat2")
        time.sleep(RUN_SECONDS)
        sent = [stack.log_lines(beat, "sla.tasks.scan_breaches") for beat in ("beat1", "beat2")]
        notes = [f"scans sent by each Beat in {RUN_SECONDS} s: {sent}"]
        return stack.verdict("two_beats", tickets=tickets, notes=notes)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
