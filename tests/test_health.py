"""/healthz reports each dependency; check_outbox tells monitoring when mail is stuck."""

import datetime

import pytest
from django.core.cache.backends.dummy import DummyCache
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_scopes import scopes_disabled

from alliance import health
from alliance.celery_app import app
from alliance.models import OutgoingEmail
from tests.factories import OutgoingEmailFactory

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_cache_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_a_cache_outage_is_degraded_not_down(client, monkeypatch):
    monkeypatch.setattr(health, "cache", DummyCache("dummy", {}))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["cache"] == "error: unavailable"


def test_a_broker_that_does_not_answer_is_degraded(client, monkeypatch):
    # A closed port on loopback: refused at once.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["broker"].startswith("error: ")
    assert body["database"] == "ok"


def test_a_database_failure_is_503(client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"


def outbox_row(**fields):
    row = OutgoingEmailFactory()
    with scopes_disabled():
        OutgoingEmail.objects.filter(pk=row.pk).update(**fields)
    return row


def check_outbox(capsys) -> tuple[int, str]:
    try:
        call_command("check_outbox")
    except SystemExit as exit:
        return exit.code, capsys.readouterr().err
    return 0, capsys.readouterr().out


def test_check_outbox_is_quiet_while_mail_flows(capsys):
    outbox_row()  # queued just now
    outbox_row(status=OutgoingEmail.Status.SENT)
    code, output = check_outbox(capsys)
    assert code == 0
    assert output.startswith("ok: 0 waiting over 30 min, 0 failed in 24 h, oldest waiting: 0 min")


@pytest.mark.parametrize(
    "fields",
    [
        {"created_at": timezone.now() - datetime.timedelta(hours=2)},
        {
            "status": OutgoingEmail.Status.SENDING,
            "created_at": timezone.now() - datetime.timedelta(hours=2),
        },
        {"status": OutgoingEmail.Status.FAILED},
    ],
    ids=["queued for two hours", "sending for two hours", "failed today"],
)
def test_check_outbox_exits_non_zero_when_mail_is_stuck(capsys, fields):
    outbox_row(**fields)
    code, output = check_outbox(capsys)
    assert code == 1
    assert output.startswith("STUCK: ")


def test_an_old_failure_no_longer_counts(capsys):
    outbox_row(
        status=OutgoingEmail.Status.FAILED,
        updated_at=timezone.now() - datetime.timedelta(days=2),
    )
    assert check_outbox(capsys)[0] == 0
