"""PostgreSQL restarted (`pg_ctl restart -m fast`: every connection is closed) under the worker,
Beat and customers opening tickets, with deadlines falling due around the restart.

Every process's pool then holds dead connections; each must notice and reconnect by itself.
"""

import datetime
import sys
import time

from faults.stack import Stack, Traffic, log


def main() -> bool:
    with Stack("postgres_restart") as stack:
        from django.utils import timezone

        now = timezone.now()
        due = [now + datetime.timedelta(seconds=20 + 2 * n) for n in range(40)]
        tickets = stack.seed_tickets(due)
        stack.start_worker()
        stack.start_beat()
        traffic = Traffic(stack)
        traffic.start()
        time.sleep(30)
        log("restart PostgreSQL")
        started = time.monotonic()
        stack.postgres.restart()
        log(f"PostgreSQL is back after {time.monotonic() - started:.1f} s")
        time.sleep(60)
        notes = [traffic.stop()]
        notes.append(
            f"worker alive: {stack.alive('worker')}, Beat alive: {stack.alive('beat')} after it"
        )
        return stack.verdict("postgres_restarted", tickets=tickets + traffic.opened, notes=notes)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
