"""End to end: a real Celery worker on real Redis sends a reminder into an SMTP server.

The beat job's task is published to Redis (`celery call`, as beat would); a
worker started as a subprocess fans out to the alliance's tenant task, which
queues the reminder in the outbox of the test database; the delivery task
goes through Redis too and the worker hands the message to an aiosmtpd server
on loopback. Needs PostgreSQL (a `transaction=True` test's rows are visible to
another process) and Redis: skipped without them locally, failed under CI.
"""

import datetime
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from alliance.models import OutgoingEmail
from tests.factories import MeetingFactory, RegistrationFactory

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 60


def _require_services() -> str:
    redis_url = os.environ.get("REDIS_URL", "")
    missing = []
    if not redis_url:
        missing.append("REDIS_URL")
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if missing:
        reason = f"the Celery end-to-end test needs {' and '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this: {reason}.")
        pytest.skip(reason)
    return redis_url


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        self.arrived.set()
        return "250 2.0.0 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.port = port
    yield mailbox
    controller.stop()


def _worker_settings(tmp_path, *, redis_url: str, smtp_port: int, queue: str) -> str:
    """A settings module for the subprocesses: the test database, real Redis, SMTP."""
    module = f"integration_settings_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(
            f"""
            from alliance.settings.test import *  # noqa: F403

            DATABASES["default"]["NAME"] = {connection.settings_dict["NAME"]!r}
            CELERY_BROKER_URL = {redis_url!r}
            CELERY_TASK_ALWAYS_EAGER = False
            # A queue of its own: no other worker on this Redis takes these tasks.
            CELERY_TASK_DEFAULT_QUEUE = {queue!r}
            EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            EMAIL_HOST, EMAIL_PORT = "127.0.0.1", {smtp_port}
            EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
            EMAIL_USE_TLS = EMAIL_USE_SSL = False
            """
        )
    )
    return module


def worker_command(queue: str, name: str) -> list[str]:
    """One Celery worker process (solo pool) taking only `queue`'s tasks."""
    return [
        *(sys.executable, "-m", "celery", "-A", "alliance", "worker"),
        *("--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"),
        *("--loglevel=INFO", "-Q", queue, "-n", f"{name}@%h"),
    ]


def test_a_reminder_goes_from_beat_through_redis_and_a_worker_to_smtp(tmp_path, tenant_a, smtp):
    redis_url = _require_services()
    starts_at = timezone.now() + datetime.timedelta(hours=20)
    meeting = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        title="End-to-end session",
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=2),
    )
    RegistrationFactory(alliance=tenant_a.alliance, meeting=meeting, membership=tenant_a.membership)
    queue = f"integration-{uuid.uuid4().hex[:8]}"
    module = _worker_settings(tmp_path, redis_url=redis_url, smtp_port=smtp.port, queue=queue)
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(settings.BASE_DIR)]),
    }
    celery = [sys.executable, "-m", "celery", "-A", "alliance"]
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        worker_command(queue, queue),
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # What beat does every 5 minutes: publish the fan-out task.
        subprocess.run(
            [*celery, "call", "notifications.dispatch_reminders", "--queue", queue],
            cwd=settings.BASE_DIR,
            env=environment,
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            if any(to == [tenant_a.member.email] for to, _ in smtp.messages):
                break
            smtp.arrived.wait(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    worker_log = (tmp_path / "worker.log").read_text()
    assert smtp.messages, f"no mail arrived within {WAIT_SECONDS} s; worker log:\n{worker_log}"

    # The registrant's reminder, once. Members who have not answered may also
    # get an RSVP nudge in the same delivery task: nothing else may arrive.
    (raw,) = [raw for to, raw in smtp.messages if to == [tenant_a.member.email]]
    for to, other in smtp.messages:
        if to != [tenant_a.member.email]:
            nudge = message_from_bytes(other, policy=default_policy)
            assert nudge["Subject"].startswith("Will you attend? End-to-end session, "), to
    message = message_from_bytes(raw, policy=default_policy)
    assert message["Subject"].startswith("Reminder: End-to-end session, ")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    types = [part.get_content_type() for part in message.walk()]
    assert types[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
    assert "text/calendar" in types
    with scopes_disabled():
        row = OutgoingEmail.objects.get(kind="meeting_reminder")
    assert row.status == OutgoingEmail.Status.SENT and row.attempts == 1


def test_a_worker_process_loads_what_runs_use_then_freezes_it(monkeypatch):
    """Before its first task: URLs and email templates loaded, then gc.freeze()."""
    import gc

    from celery.signals import worker_process_init

    from alliance.celery_app import _prepare_worker_process
    from alliance.notifications import jinja

    loaded = []
    monkeypatch.setattr(jinja, "load_email_templates", lambda: loaded.append("templates"))
    monkeypatch.setattr(gc, "freeze", lambda: loaded.append("frozen"))
    receivers = [receiver() for _key, receiver in worker_process_init.receivers]
    assert _prepare_worker_process in receivers
    worker_process_init.send(sender=None)
    assert loaded == ["templates", "frozen"]


def test_every_email_template_compiles():
    from alliance.notifications import jinja

    jinja.load_email_templates()
    names = jinja.environment().list_templates(
        filter_func=lambda name: name.startswith("notifications/email/")
    )
    assert {name.rsplit(".", 1)[-1] for name in names} == {"html", "txt"}
    assert any(".jinja." in name for name in names)
    assert any(".jinja." not in name for name in names)
