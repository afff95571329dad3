"""Celery Beat stopped for an hour of due deadlines, then started.

The hour is travelled, not waited: tickets are opened so that their deadlines fell due one by one
over the past hour, while no scan ran. When Beat starts, its first scan must record every one of
those breaches once, stamped with its own deadline (not with the late scan's time), and every
notification and e-mail must follow once.
"""

import datetime
import sys

from faults.stack import Stack, log

DEADLINES = 120  # one every 30 s over the hour


def main() -> bool:
    with Stack("beat_stopped") as stack:
        from django.utils import timezone

        stack.start_worker()
        now = timezone.now()
        hour_ago = now - datetime.timedelta(hours=1)
        due = [hour_ago + datetime.timedelta(seconds=30 * n) for n in range(DEADLINES)]
        log(f"open {DEADLINES} tickets whose deadlines fell due over the past hour")
        tickets = stack.seed_tickets(due)
        owed = stack.outstanding(timezone.now())
        log(f"before Beat starts: {owed}")
        stack.start_beat()
        notes = [f"{owed['due targets']} deadlines had fallen due while Beat was stopped"]
        return stack.verdict("beat_stopped_an_hour", tickets=tickets, notes=notes)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
