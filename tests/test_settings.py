"""Production settings refuse unsafe set-ups and pass Django's deploy check."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "alliance.settings.production",
    "SECRET_KEY": "a-production-like-secret-with-enough-length-and-variety-0123456789-XYZ",
    "ALLOWED_HOSTS": "portal.example.org",
    "SITE_BASE_URL": "https://portal.example.org",
    "DATABASE_URL": "postgres://portal:secret@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
    "DEFAULT_FROM_EMAIL": "Alliance portal <noreply@portal.example.org>",
}


def manage(*args, **env_overrides):
    env = {**os.environ, **PRODUCTION_ENV, **env_overrides}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_sqlite():
    result = manage("check", DATABASE_URL="sqlite:////tmp/x.sqlite3")
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_production_refuses_to_run_without_redis():
    result = manage("check", REDIS_URL="")
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_celery_is_configured_for_reliability():
    from alliance.celery_app import app

    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit


PRODUCTION_RESPONSE_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# The manifest storage needs collectstatic, which is not what this probe is about.
plain = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):
    response = Client().get("/accounts/login/", secure=True, HTTP_HOST="portal.example.org")
cookie = response.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "csrf_cookie": {k: cookie[k] for k in ("secure", "httponly", "samesite")},
    "session_cookie": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE,
                       settings.SESSION_COOKIE_HTTPONLY, settings.SESSION_COOKIE_SAMESITE],
}))
"""


def test_production_headers_and_cookie_flags():
    import json

    env = {**os.environ, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_RESPONSE_PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 200
    headers = probe["headers"]
    hsts = dict(
        part.strip().partition("=")[::2] for part in headers["Strict-Transport-Security"].split(";")
    )
    assert int(hsts["max-age"]) >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    assert probe["csrf_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert probe["session_cookie"] == ["__Host-sessionid", True, True, "Lax"]


def test_local_mail_goes_to_files_under_var_mail():
    """`make run` shows every email as a file in var/mail/ (the default EMAIL_URL)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "DATABASE_URL")}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings as s;"
            "print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH)",
        ],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "alliance.settings.local"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    backend, path = result.stdout.split()[-2:]
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert path == str(settings.BASE_DIR / "var" / "mail")
