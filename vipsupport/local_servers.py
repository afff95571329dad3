"""PostgreSQL and Redis servers of our own, in temporary folders on free ports.

For what must stop, restart or replicate a server without touching the machine's own: the read
replica's test (a primary and its streaming replica) and the fault scripts (`faults/`). Uses the
machine's PostgreSQL 15 binaries and `redis-server`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(*command: str) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def run(command: list[str], **kwargs: Any) -> None:
    """Run `command`, failing with the end of its output if it fails."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{command[:6]}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_stop(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    """Ask `process` to end (SIGTERM), and kill it if it has not within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def owned_folder(prefix: str) -> Path:
    """A new temporary folder the postgres user may write in."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


@dataclass
class PostgresServer:
    """One PostgreSQL server of ours: its data folder, port and log file."""

    folder: Path
    port: int
    log: Path

    def url(self, database: str = "vipsupport") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self, *, sockets: Path, settings: str = "") -> None:
        """initdb with trust authentication, listening on 127.0.0.1 only, plus `settings`."""
        run(as_postgres(str(PG_BIN / "initdb"), "-D", str(self.folder), "-A", "trust",
                        "-U", "postgres", "--no-sync"))  # fmt: skip
        with (self.folder / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{sockets}'\nfsync = off\n{settings}"
            )

    def createdb(self, name: str = "vipsupport") -> None:
        run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", name])  # fmt: skip

    def start(self) -> None:
        run(self._ctl("-l", str(self.log), "-w", "-t", "30", "start"))

    def restart(self, *, mode: str = "fast") -> None:
        """Stop (closing every client's connection) and start again, as a server restart does."""
        run(self._ctl("-l", str(self.log), "-m", mode, "-w", "-t", "30", "restart"))

    def stop(self) -> None:
        if (self.folder / "postmaster.pid").exists():
            subprocess.run(self._ctl("-m", "immediate", "stop"), capture_output=True, check=False)

    def _ctl(self, *arguments: str) -> list[str]:
        return as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.folder), *arguments)


@dataclass
class RedisServer:
    """One redis-server of ours, keeping nothing on disk (like the machine's)."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.folder / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            process_stop(self.process, timeout=10)
        self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
