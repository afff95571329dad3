"""Redis stopped for 60 seconds and started again, empty (it keeps nothing on disk).

The worker, Beat and customers opening tickets run throughout, and deadlines fall due during the
outage. Redis is the broker, the cache and the channel layer: while it is down no task reaches a
worker, and every task message it held is gone when it comes back. Beat's runs find the same due
rows in the database afterwards.
"""

import datetime
import sys
import time

from faults.stack import Stack, Traffic, log

OUTAGE_SECONDS = 60


def main() -> bool:
    with Stack("redis_down") as stack:
        from django.utils import timezone

        now = timezone.now()
        # Due from 20 s into the outage to 20 s after it.
        due = [now + datetime.timedelta(seconds=30 + 2 * n) for n in range(40)]
        tickets = stack.seed_tickets(due)
        stack.start_worker()
        stack.start_beat()
        traffic = Traffic(stack)
        traffic.start()
        time.sleep(10)
        log(f"stop Redis for {OUTAGE_SECONDS} s")
        stack.redis.stop()
        time.sleep(OUTAGE_SECONDS)
        stack.redis.start()
        log("Redis is back")
        time.sleep(30)
        notes = [traffic.stop()]
        notes.append(
            f"worker alive: {stack.alive('worker')}, Beat alive: {stack.alive('beat')} after it"
        )
        return stack.verdict("redis_stopped_60s", tickets=tickets + traffic.opened, notes=notes)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
