"""A Celery worker killed with SIGKILL in the middle of an SLA scan.

Twice, each time with a backlog of due deadlines (two claim batches of the scan):
1. only the pool process running the scan is killed: the worker hands the scan's message back
   (`task_reject_on_worker_lost`) and a new pool process runs it again, with no Beat to help;
2. the whole worker, parent and pool, is killed; another worker and Beat are started.
The batch being claimed when the kill lands rolls back with its transaction, so the rerun finds
exactly the rows nobody recorded.
"""

import datetime
import os
import signal
import sys

from faults.stack import Stack, log, wait_until

BACKLOG = 1500  # the scan claims 1 000 due rows per transaction


def _kill_mid_scan(stack: Stack, tickets: list[int], *, whole_worker: bool) -> str:
    from sla.models import SlaTarget, TargetState
    from sla.tasks import scan_breaches

    breached = SlaTarget.objects.filter(ticket_id__in=tickets, state=TargetState.BREACHED)
    scan_breaches.delay()
    # The first batch has committed; the second is being recorded.
    assert wait_until(lambda: breached.count() >= 1, timeout=120), "the scan never started"
    if whole_worker:
        stack.kill("worker")
    else:
        children = stack.pool_children("worker")
        log(f"SIGKILL the worker's pool process {children}")
        for pid in children:
            os.kill(pid, signal.SIGKILL)
    at_kill = breached.count()
    assert at_kill < len(tickets), "the scan finished before the kill"
    return f"killed with {at_kill} of {len(tickets)} breaches recorded"


def main() -> bool:
    notes = []
    with Stack("worker_killed") as stack:
        from django.utils import timezone

        def backlog() -> list[int]:
            now = timezone.now()
            log(f"open {BACKLOG} tickets whose deadlines fell due over the past 25 minutes")
            return stack.seed_tickets([now - datetime.timedelta(seconds=n) for n in range(BACKLOG)])

        first = backlog()
        stack.start_worker(concurrency=1)
        notes.append("pool process: " + _kill_mid_scan(stack, first, whole_worker=False))
        # Without Beat only the redelivered scan can breach the rest (its e-mails beyond one
        # sender run's 500 wait for Beat's next run, started below).
        settled = wait_until(
            lambda: not stack.outstanding(timezone.now())["due targets"], timeout=300, every=1
        )
        notes.append(f"the worker's new pool process finished the scan alone: {settled}")

        second = backlog()
        notes.append("whole worker: " + _kill_mid_scan(stack, second, whole_worker=True))
        stack.start_worker(concurrency=2)
        stack.start_beat()
        return stack.verdict(
            "worker_killed_mid_scan", tickets=first + second, notes=notes, settled=settled
        )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
