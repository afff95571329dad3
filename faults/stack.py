"""One fault run's world: its own PostgreSQL, Redis and SMTP server, the portal's Celery worker
and Beat as real processes on the production settings, the tickets it seeds and the ledger that
proves nothing was lost or doubled.

A fault script makes one `Stack` (Django is set up on it, so a script runs in its own process),
seeds tickets whose SLA deadlines fall due when it wants, breaks something while the worker and
Beat run, mends it, waits until the portal has caught up (`settle`) and reads the `ledger`.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path
from typing import Any

import time_machine

from faults.ledger import Ledger, ledger_read
from vipsupport.local_servers import PostgresServer, RedisServer, free_port, owned_folder

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TWO_DAYS = datetime.timedelta(days=2)


def log(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class SmtpSink:
    """An SMTP server that records every message it accepts by (Message-ID, recipient), and
    answers 451 (try again later) to every message while `refusing`."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = port
        self.refusing = False
        self.refused = 0
        self.received: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refusing:
                self.refused += 1
                return "451 4.3.0 Mail server temporarily refusing mail"
            message_id = str(message_from_bytes(envelope.content)["Message-ID"] or "").strip()
            for recipient in envelope.rcpt_tos:
                self.received[(message_id, recipient.lower())] += 1
        return "250 Message accepted"

    def total(self) -> int:
        with self._lock:
            return sum(self.received.values())


class Stack:
    """Servers of our own, the portal's processes on them, seeding and checking."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.folder = owned_folder(f"vipsupport-fault-{name}-")
        self.postgres = PostgresServer(self.folder / "pg", free_port(), self.folder / "pg.log")
        self.redis = RedisServer(self.folder, free_port())
        self.smtp = SmtpSink(free_port())
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # Setting up and tearing down

    def __enter__(self) -> Stack:
        log(f"{self.name}: PostgreSQL on {self.postgres.port}, Redis on {self.redis.port}, "
            f"SMTP on {self.smtp.port}, files in {self.folder}")  # fmt: skip
        # Room for the portal's pools plus the fault script's own connections.
        self.postgres.init(sockets=self.folder, settings="max_connections = 200\n")
        self.postgres.start()
        self.postgres.createdb()
        self.redis.start()
        self.smtp.start()
        os.environ.update(self.environment())
        import django

        django.setup()
        # This process's own lines (the SMTP server's dialogue, Django's) would drown the report.
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        # The demo's add-on starts on the day it is seeded: two days back, so that tickets
        # opened hours ago (time travelled) were VIP ones too, whatever the hour now.
        with time_machine.travel(datetime.datetime.now(datetime.UTC) - TWO_DAYS, tick=True):
            call_command("seed_demo", verbosity=0)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in list(self.processes):
            self.kill(name)
        from django.db import connections

        connections.close_all()
        self.smtp.stop()
        self.redis.stop()
        self.postgres.stop()
        if not os.environ.get("FAULTS_KEEP_FILES"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def environment(self) -> dict[str, str]:
        """The production settings, pointed at this stack's servers."""
        return {
            "DJANGO_SETTINGS_MODULE": "vipsupport.settings.production",
            "DJANGO_SECRET_KEY": "fault-scripts-only-not-secret",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": self.postgres.url(),
            "DATABASE_POOL_MIN_SIZE": "1",
            "DATABASE_POOL_MAX_SIZE": "4",
            "REDIS_URL": self.redis.url(),
            "DJANGO_EMAIL_URL": f"smtp://127.0.0.1:{self.smtp.port}",
            "DJANGO_PORTAL_URL": "https://support.example.com",
            "DJANGO_STATIC_ROOT": str(self.folder / "static"),
        }

    # The portal's processes

    def start_worker(self, name: str = "worker", *, concurrency: int = 2) -> None:
        command = [str(BIN / "celery"), "-A", "vipsupport", "worker", "--loglevel=INFO"]
        self._start(name, [*command, f"--concurrency={concurrency}", f"--hostname={name}@%h"])

    def start_beat(self, name: str = "beat") -> None:
        self._start(name, [str(BIN / "celery"), "-A", "vipsupport", "beat", "--loglevel=INFO",
                           "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                           "--pidfile="])  # fmt: skip

    def _start(self, name: str, command: list[str]) -> None:
        log(f"start {name}")
        output = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **self.environment()},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its pool children die with it
        )

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send `sig` to the whole process group of `name` (a worker and its pool children)."""
        process = self.processes.pop(name)
        if process.poll() is None:
            log(f"{sig.name} {name}")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def log_lines(self, name: str, text: str) -> int:
        """How many lines of process `name`'s log contain `text`."""
        path = self.folder / f"{name}.log"
        return sum(text in line for line in path.read_text(errors="replace").splitlines())

    # Seeding

    def seed_tickets(self, due_times: list[datetime.datetime]) -> list[int]:
        """Open one VIP severity-1 ticket per deadline, through the service the web form uses,
        at the moment that makes its first response due then (VIP severity 1: one hour, 24/7).

        A deadline in the past is a ticket opened an hour before it: time travelled, as if the
        ticket had been waiting while the scans did not run."""
        from accounts.models import User
        from tickets.services import ticket_create

        requester = User.objects.get(email="customer@acme.example")
        ids = []
        for number, due in enumerate(due_times):
            ticket = ticket_create(
                requester=requester,
                subject=f"Fault run {self.name}: outage {number}",
                description="Our production system is down.",
                severity=1,
                at=due - datetime.timedelta(hours=1),
            )
            ids.append(ticket.pk)
        return ids

    def pool_children(self, name: str) -> list[int]:
        """The pids of the pool processes of worker `name`."""
        pid = self.processes[name].pid
        children: list[int] = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
        return children

    # Watching

    def outstanding(self, now: datetime.datetime) -> dict[str, int]:
        """What the portal still owes at `now`: due targets not yet breached, notices without
        their e-mail, e-mails due but not sent."""
        from outbox.models import Email, EmailState
        from sla.models import SlaTarget, TargetState
        from tickets.models import Notification

        return {
            "due targets": SlaTarget.objects.filter(
                state=TargetState.ACTIVE, due_at__lte=now
            ).count(),
            "notices without e-mail": Notification.objects.filter(emailed_at__isnull=True).count(),
            "e-mails pending": Email.objects.filter(state=EmailState.PENDING).count(),
        }

    def settle(self, *, timeout: float) -> bool:
        """Wait until the portal owes nothing for the deadlines passed so far and the SMTP
        server has received nothing new for 5 s; False if `timeout` seconds pass first."""
        from django.db import close_old_connections
        from django.utils import timezone

        deadline = time.monotonic() + timeout
        quiet_since, delivered = time.monotonic(), -1
        while time.monotonic() < deadline:
            close_old_connections()
            owed = self.outstanding(timezone.now())
            total = self.smtp.total()
            if total != delivered:
                quiet_since, delivered = time.monotonic(), total
            if not any(owed.values()) and time.monotonic() - quiet_since > 5:
                return True
            time.sleep(1)
        log(f"not settled after {timeout:.0f} s: {owed}")
        return False

    # Checking

    def verdict(
        self,
        name: str,
        *,
        tickets: list[int],
        notes: list[str],
        timeout: float = 600,
        settled: bool = True,
    ) -> bool:
        """Let the portal catch up (`settle`), read the ledger of `tickets` against what the SMTP
        server received, and print the fault's result; True when it held. `settled=False` says
        an earlier wait of the script already timed out."""
        settled = self.settle(timeout=timeout) and settled
        ledger = ledger_read(ticket_ids=tickets, received=self.smtp.received)
        return report(name, ledger, settled=settled, notes=notes)


def report(name: str, ledger: Ledger, *, settled: bool, notes: list[str]) -> bool:
    """Print the fault's result line; True when it held."""
    problems = ([] if settled else ["the portal did not catch up in time"]) + ledger.problems
    held = not problems
    print(f"fault: {name} {'held' if held else 'FAILED'}: {ledger.summary()}", flush=True)
    for note in notes:
        print(f"  {note}", flush=True)
    for problem in problems:
        print(f"  problem: {problem}", flush=True)
    return held


class Traffic(threading.Thread):
    """Customers opening tickets through the web form's service, one every `every` seconds, as
    long as the fault lasts; counts what succeeded and what failed (and how)."""

    def __init__(self, stack: Stack, *, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.stack, self.every = stack, every
        self.opened: list[int] = []
        self.errors: Counter[str] = Counter()
        self._stopping = threading.Event()

    def run(self) -> None:
        from django.db import close_old_connections, connection
        from django.utils import timezone

        while not self._stopping.wait(self.every):
            try:
                # Due one minute from now: its breach must follow once too.
                due = timezone.now() + datetime.timedelta(minutes=1)
                self.opened += self.stack.seed_tickets([due])
            except Exception as error:  # what a customer would see as an error page
                self.errors[type(error).__name__] += 1
                close_old_connections()
        connection.close()

    def stop(self) -> str:
        self._stopping.set()
        self.join()
        failed = sum(self.errors.values())
        kinds = ", ".join(f"{name} × {count}" for name, count in self.errors.items())
        return f"{len(self.opened)} tickets opened during the run, {failed} attempts failed" + (
            f" ({kinds})" if kinds else ""
        )


def wait_until(condition: Any, *, timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
