"""A real Dovecot IMAP server for the poller's tests: Debian's `dovecot-imapd`, installed when
missing (as the Makefile installs Chromium), run in the foreground on a free loopback port with a
throwaway configuration, certificate and mail store. Each pytest(-xdist) process gets its own.

Use it with `from mail.tests.imap_server import dovecot  # noqa: F401` in a test module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import grp
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]

USER = "support@example.com"
PASSWORD = "secret"
HOST = "127.0.0.1"
START_SECONDS = 15.0
INSTALL_LOCK = Path(tempfile.gettempdir()) / "vipsupport-dovecot-install.lock"


@dataclasses.dataclass
class Dovecot:
    """A running server with one user; the helpers open a connection of their own each time."""

    host: str
    port: int
    user: str
    password: str
    ssl_context: ssl.SSLContext
    directory: Path

    @property
    def url(self) -> str:
        return self.url_for("INBOX")

    def url_for(self, folder: str) -> str:
        return (
            f"imaps://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(folder)}"
        )

    @contextlib.contextmanager
    def client(self) -> Iterator[Any]:
        client = IMAPClient(
            self.host, port=self.port, ssl=True, ssl_context=self.ssl_context, timeout=10
        )
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def folder_create(self) -> str:
        """A new, empty folder, so tests sharing the server never see each other's mail."""
        name = f"Test{uuid.uuid4().hex[:12]}"
        with self.client() as client:
            client.create_folder(name)
        return name

    def append(
        self,
        raw: bytes,
        flags: Sequence[bytes] = (),
        *,
        folder: str = "INBOX",
        internal_date: datetime.datetime | None = None,
    ) -> int:
        """APPEND a message, dated `internal_date` (else by Dovecot's clock); returns its UID."""
        with self.client() as client:
            response = client.append(folder, raw, flags=tuple(flags), msg_time=internal_date)
        found = re.search(rb"\[APPENDUID \d+ (\d+)\]", response)
        assert found is not None, response
        return int(found.group(1))

    def flags(self, uid: int, *, folder: str = "INBOX") -> set[bytes]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return set(client.get_flags([uid]).get(uid, ()))

    def seen(self, uid: int, *, folder: str = "INBOX") -> bool:
        return b"\\Seen" in self.flags(uid, folder=folder)

    def uids(self, *, folder: str = "INBOX") -> list[int]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search(["ALL"]))

    def uid_validity(self, *, folder: str = "INBOX") -> int:
        with self.client() as client:
            status = client.folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = _dovecot_installed()
    directory = Path(tempfile.mkdtemp(prefix="vipsupport-dovecot-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        conf, ssl_context = _dovecot_configure(directory)
        for _attempt in range(3):
            port = _free_port()
            conf.write_text(_dovecot_conf(directory, port=port))
            server = Dovecot(
                host=HOST,
                port=port,
                user=USER,
                password=PASSWORD,
                ssl_context=ssl_context,
                directory=directory,
            )
            process = subprocess.Popen(
                [binary, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if _dovecot_wait(server, process):
                break
            log = _log_tail(directory)
            _stop(process)
            process = None
            # Another process may have taken the free port between our check and Dovecot's bind.
            if "in use" not in log:
                pytest.fail(f"Dovecot did not start; its log:\n{log}")
        else:
            pytest.fail(f"Dovecot found no free port; its log:\n{_log_tail(directory)}")
        yield server
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(directory, ignore_errors=True)


def _dovecot_installed() -> str:
    binary = _dovecot_binary()
    if binary:
        return binary
    if os.geteuid() != 0:
        pytest.fail(
            "Dovecot is missing: install Debian's dovecot-imapd package "
            "(`apt-get install dovecot-imapd`), or run the tests as root to have them install it"
        )
    # pytest-xdist workers start together: one installs, the other waits and finds it there.
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _dovecot_binary():
            _apt_get_install("dovecot-imapd")
    binary = _dovecot_binary()
    if not binary:
        pytest.fail("apt-get installed dovecot-imapd but there is no dovecot binary")
    return binary


def _dovecot_binary() -> str | None:
    # /usr/sbin is often not on a non-root user's PATH.
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    return found


def _apt_get_install(package: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300", package]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode == 0:
        return
    # A fresh machine has no package lists yet.
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)  # noqa: S607
    result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"apt-get install {package} failed:\n{result.stdout}\n{result.stderr}")


@dataclasses.dataclass(frozen=True)
class _Users:
    internal: str  # Dovecot's own processes (auth, anvil, stats)
    internal_group: str
    login: str  # the unauthenticated imap-login processes
    mail_uid: int  # who the mail store belongs to
    mail_gid: int


def _users() -> _Users:
    if os.geteuid() == 0:
        # Dovecot refuses root for imap-login and for mail access (userdb "uid 0"), so as root
        # use the unprivileged users Debian's package creates for exactly these roles.
        mail = pwd.getpwnam("dovecot")
        return _Users(
            internal="dovecot",
            internal_group=grp.getgrgid(mail.pw_gid).gr_name,
            login="dovenull",
            mail_uid=mail.pw_uid,
            mail_gid=mail.pw_gid,
        )
    # Dovecot's "rootless" mode: every process runs as the user running the tests.
    me = pwd.getpwuid(os.getuid())
    return _Users(
        internal=me.pw_name,
        internal_group=grp.getgrgid(me.pw_gid).gr_name,
        login=me.pw_name,
        mail_uid=me.pw_uid,
        mail_gid=me.pw_gid,
    )


def _dovecot_configure(directory: Path) -> tuple[Path, ssl.SSLContext]:
    users = _users()
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [  # noqa: S607
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=IP:{HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=True,
    )
    home = directory / "home" / USER
    (directory / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{users.mail_uid}:{users.mail_gid}::{home}::\n"
    )
    for name in ("mail", "home"):
        (directory / name).mkdir()
        if os.geteuid() == 0:
            os.chown(directory / name, users.mail_uid, users.mail_gid)
    # mkdtemp makes the directory private to us; Dovecot's own users must get through it.
    directory.chmod(0o755)
    (directory / "passwd").chmod(0o644)
    return directory / "dovecot.conf", ssl.create_default_context(cafile=str(cert))


def _dovecot_conf(directory: Path, *, port: int) -> str:
    users = _users()
    return f"""\
# Throwaway configuration written by mail/tests/imap_server.py.
protocols = imap
listen = {HOST}
# Everything the server writes stays here, so two servers never share a socket or a pid file.
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = dovecot-{directory.name}
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log
default_internal_user = {users.internal}
default_internal_group = {users.internal_group}
default_login_user = {users.login}
first_valid_uid = 1
mail_uid = {users.mail_uid}
mail_gid = {users.mail_gid}
mail_location = maildir:{directory}/mail/%u
mail_fsync = never
ssl = required
ssl_cert = <{directory}/cert.pem
ssl_key = <{directory}/key.pem
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {directory}/passwd
}}
userdb {{
  driver = passwd-file
  args = {directory}/passwd
}}
# No chroots: only root may chroot, and a throwaway server has nothing to protect.
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _dovecot_wait(server: Dovecot, process: subprocess.Popen[bytes]) -> bool:
    """True once a TLS login works; False when Dovecot exits or does not answer in time."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with server.client():
                return True
        # Refused, reset or a failed login while Dovecot's processes are still starting.
        except Exception:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _log_tail(directory: Path) -> str:
    try:
        return "\n".join((directory / "dovecot.log").read_text().splitlines()[-20:])
    except OSError:
        return "(no log)"
