import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "vipsupport.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "support.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vipsupport",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "DJANGO_PORTAL_URL": "https://support.example.com",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENVIRONMENT)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    environment = {
        key: value for key, value in PRODUCTION_ENVIRONMENT.items() if key != "DJANGO_SECRET_KEY"
    }

    result = run_manage("check", env=environment)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
