"""The portal served by uvicorn on the production settings, for the benchmarks and `make load`
that measure it over real sockets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def production_environment(
    *,
    port: int,
    secret: str,
    database_url: str,
    redis_url: str,
    email_url: str,
    static_root: Path,
    application_name: str,
) -> dict[str, str]:
    """Production's variables (README "Running production settings") for plain HTTP here; the
    caller's own DJANGO_, DATABASE_, CHAT_ and REDIS_URL variables left out."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CHAT_")) and key != "REDIS_URL"
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "vipsupport.settings.production",
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "DATABASE_APPLICATION_NAME": application_name,
        "REDIS_URL": redis_url,
        "DJANGO_EMAIL_URL": email_url,
        "DJANGO_PORTAL_URL": f"http://127.0.0.1:{port}",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_STATIC_ROOT": str(static_root),
    }


def uvicorn_start(
    *, port: int, workers: int, environment: dict[str, str], output: Path
) -> subprocess.Popen[bytes]:
    """uvicorn serving `vipsupport.asgi` on 127.0.0.1:`port`, its output into `output`."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "vipsupport.asgi:application",
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--no-access-log", "--log-level", "warning"),
    ]
    with output.open("wb") as stream:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=environment, stdout=stream, stderr=subprocess.STDOUT
        )
