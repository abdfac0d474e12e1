"""The outbox: queued in the caller's transaction, delivered once, retried, swept.

SMTP behaviour is tested against a scripted SMTP server on loopback (aiosmtpd
is not installed): it answers each recipient with the codes the test scripts
and records every message it accepts.
"""

import os
import socket
import socketserver
import threading
import time
from contextlib import suppress
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django.db import DataError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance.models import OutgoingEmail, SharedEmailBody
from alliance.notifications import delivery, outbox
from alliance.notifications.content import stand_in
from alliance.notifications.delivery import Outcome
from tests.factories import AllianceFactory, OutgoingEmailFactory, UserFactory
from tests.guardrails.headers import header_problems

pytestmark = pytest.mark.django_db

Status = OutgoingEmail.Status


# Helpers
# ------------------------------------------------------------------------------


class Rollback(Exception):
    pass


def reload(row: OutgoingEmail) -> OutgoingEmail:
    with scopes_disabled():
        return OutgoingEmail.objects.get(pk=row.pk)


def rows(**filters) -> list[OutgoingEmail]:
    with scopes_disabled():
        return list(OutgoingEmail.objects.filter(**filters).order_by("pk"))


def age(*emails: OutgoingEmail, by: timedelta) -> None:
    """As if the rows were last touched `by` ago (the sweep leaves fresh rows alone)."""
    with scopes_disabled():
        OutgoingEmail.objects.filter(pk__in=[e.pk for e in emails]).update(
            updated_at=timezone.now() - by
        )


def make_due(*emails: OutgoingEmail) -> None:
    with scopes_disabled():
        OutgoingEmail.objects.filter(pk__in=[e.pk for e in emails]).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )


def queued(alliance, recipient: str, **fields) -> OutgoingEmail:
    return OutgoingEmailFactory(alliance=alliance, recipient=recipient, **fields)


@pytest.fixture
def alliance():
    return AllianceFactory()


# A scripted SMTP server on loopback
# ------------------------------------------------------------------------------


class ScriptedSMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.replies: dict[str, list[str]] = {}  # recipient -> RCPT replies, in order
        self.received: list[tuple[str, bytes]] = []  # (recipient, message) accepted
        self.rcpt_count: dict[str, int] = {}
        self.lock = threading.Lock()

    def rcpt_reply(self, recipient: str) -> str:
        with self.lock:
            self.rcpt_count[recipient] = self.rcpt_count.get(recipient, 0) + 1
            script = self.replies.get(recipient) or []
            return script.pop(0) if script else "250 OK"

    def accepted_by(self, recipient: str) -> int:
        return sum(1 for to, _ in self.received if to == recipient)


class _SMTPHandler(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server: ScriptedSMTPServer = self.server
        self.reply("220 outbox-test ESMTP")
        recipient = ""
        while line := self.rfile.readline():
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                self.reply("250 outbox-test")
            elif command == b"RCPT":
                recipient = line.decode().split("<", 1)[1].split(">", 1)[0].lower()
                self.reply(server.rcpt_reply(recipient))
            elif command == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                with server.lock:
                    server.received.append((recipient, b"".join(chunks)))
                self.reply("250 2.0.0 queued")
            elif command == b"QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RSET, NOOP
                self.reply("250 OK")


def _use_smtp(settings, host: str, port: int, timeout: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = timeout


@pytest.fixture
def smtp_server(settings):
    server = ScriptedSMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _use_smtp(settings, *server.server_address, timeout=5)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server(settings):
    """A port that accepts connections (the kernel's backlog) but never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    _use_smtp(settings, *listener.getsockname(), timeout=1)
    yield listener
    listener.close()


# Enqueue
# ------------------------------------------------------------------------------


def enqueue(alliance, **overrides):
    arguments = {
        "kind": "test",
        "recipient": "someone@example.org",
        "template": "members/email/invitation",
        "context": {"alliance": alliance, "link": "https://portal.example.org/x/"},
        "alliance": alliance,
        "about": alliance,
        "key": "k1",
    }
    with scope(alliance=alliance):
        return outbox.enqueue(**arguments | overrides)


def test_a_rolled_back_change_queues_no_mail(alliance, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        suppress(Rollback),
        transaction.atomic(),
    ):
        assert enqueue(alliance) is not None
        raise Rollback
    assert rows(kind="test") == []
    assert callbacks == []


def test_a_committed_change_queues_its_mail_and_delivers_it_after_commit(
    alliance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        row = enqueue(alliance)
        assert reload(row).status == Status.QUEUED  # nothing sent inside the transaction
    assert len(callbacks) == 1
    row = reload(row)
    assert row.status == Status.SENT and row.attempts == 1 and row.sent_at
    assert [m.to for m in mail.outbox] == [["someone@example.org"]]
    assert row.object_ref == f"alliance.alliance:{alliance.pk}"


def test_a_broker_outage_leaves_the_row_for_the_sweep(
    alliance, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from kombu.exceptions import OperationalError

    from alliance.notifications.tasks import deliver_outgoing_email

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver_outgoing_email, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        row = enqueue(alliance)
    assert reload(row).status == Status.QUEUED
    assert "the sweep will send it" in caplog.text


def test_the_same_message_is_queued_once(alliance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = enqueue(alliance)
        with transaction.atomic():  # the duplicate does not break the caller's transaction
            assert enqueue(alliance) is None
        other_key = enqueue(alliance, key="k2")
    assert first is not None and other_key is not None
    assert len(rows(kind="test")) == 2
    assert len(callbacks) == 2


def test_an_account_email_is_queued_once_without_a_scope():
    arguments = {
        "kind": "account",
        "recipient": "person@example.org",
        "subject": "Reset",
        "text_body": "Your code: 123456",
        "key": "password_reset:abc",
    }
    assert outbox.enqueue_rendered(**arguments) is not None
    assert outbox.enqueue_rendered(**arguments) is None
    (row,) = rows(kind="account")
    assert row.alliance is None
    # Text only in, multipart out: an HTML part is made from the text.
    assert "Your code: 123456" in row.html_body and row.html_body.startswith("<!DOCTYPE html>")


def test_names_and_headers_are_single_lines(alliance):
    row = outbox.enqueue_rendered(
        kind="test",
        recipient="someone@example.org",
        subject="Hello\r\nBcc: victim@example.org",
        text_body="Hi",
        html_body="<p>Hi</p>",
        alliance=alliance,
        reply_to="Name\nBcc: x@example.org <reply@example.org>",
        headers={"X-Note": "a\r\nBcc: y@example.org"},
    )
    assert "\n" not in row.subject + row.reply_to + row.headers["X-Note"]


# Delivery
# ------------------------------------------------------------------------------


def test_delivery_sends_multipart_with_headers_reply_to_and_attachments(alliance):
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    row = outbox.enqueue_rendered(
        kind="digest",
        recipient="member@example.org",
        subject="Monthly digest",
        text_body="Plain text part",
        html_body="<p>HTML part</p>",
        alliance=alliance,
        reply_to="Staff <staff@example.org>",
        headers={
            "List-Unsubscribe": "<https://portal.example.org/unsubscribe/x/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        attachments=[{"filename": "meeting.ics", "content": ics, "mimetype": "text/calendar"}],
    )
    assert delivery.deliver(row.pk) is Outcome.SENT
    (message,) = mail.outbox
    assert message.to == ["member@example.org"]
    assert message.reply_to == ["Staff <staff@example.org>"]
    assert message.body == "Plain text part"
    assert message.alternatives == [("<p>HTML part</p>", "text/html")]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.attachments[0][:1] == ("meeting.ics",)
    parsed = message_from_bytes(message.message().as_bytes())
    types = [part.get_content_type() for part in parsed.walk()]
    assert types[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
    assert "text/calendar" in types
    # Fixed per row: a message sent twice (a stopped worker) can be recognised as one.
    assert parsed["Message-ID"].startswith(f"<outbox.{row.pk}.{row.created_at:%Y%m%d%H%M%S}@")
    row = reload(row)
    assert row.status == Status.SENT and row.sent_at and row.attempts == 1


def bulk_row(alliance, kind: str, n: int, **fields) -> outbox.NewEmail:
    """An unsaved bulk row to member<n>@example.org, as reminders and digests build them."""
    defaults = {
        "alliance": alliance,
        "kind": kind,
        "about": alliance,
        "recipient": f"member{n}@example.org",
        "key": "k",
        "subject": "Hello",
        "text_body": "Hello",
    }
    return outbox.new_row(**defaults | fields)


def shared_rows(alliance, names: list[str]) -> list[outbox.NewEmail]:
    """Rows of one shared body, as the reminders queue them."""
    with scope(alliance=alliance):
        body = SharedEmailBody.objects.create(
            alliance=alliance,
            text_body=f"Dear {stand_in('name')},\nStop: {stand_in('unsubscribe')}\n",
            html_body=f'<p>Dear {stand_in("name")},</p><a href="{stand_in("unsubscribe")}">x</a>',
            attachments=[
                {"filename": "m.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}
            ],
        )
        rows = [
            bulk_row(
                alliance,
                "shared-test",
                n,
                text_body="",
                shared_body=body,
                fills={"name": name, "unsubscribe": f"https://portal.example.org/u/{n}/?a=1&b=2"},
            )
            for n, name in enumerate(names)
        ]
        return outbox.enqueue_many(alliance=alliance, rows=rows)


def test_a_shared_body_is_sent_with_each_recipients_fills(alliance):
    first, second = shared_rows(alliance, ["Ann O'Brien & <Sons>", "Bob"])
    assert first.shared_body_id == second.shared_body_id and first.html_body == ""
    assert delivery.deliver(first.pk) is Outcome.SENT
    assert delivery.deliver(second.pk) is Outcome.SENT
    ann, bob = mail.outbox
    assert ann.to == ["member0@example.org"]
    assert ann.body == "Dear Ann O'Brien & <Sons>,\nStop: https://portal.example.org/u/0/?a=1&b=2\n"
    assert ann.alternatives == [
        (
            "<p>Dear Ann O&#x27;Brien &amp; &lt;Sons&gt;,</p>"
            '<a href="https://portal.example.org/u/0/?a=1&amp;b=2">x</a>',
            "text/html",
        )
    ]
    assert "Dear Bob," in bob.body and "/u/1/" in bob.body
    assert [a[0] for a in ann.attachments] == [a[0] for a in bob.attachments] == ["m.ics"]


def test_the_admin_shows_a_shared_rows_own_message(staff_client, tenant_a):
    (row,) = shared_rows(tenant_a.alliance, ["Carol <Jones>"])
    change = staff_client.get(reverse("admin:alliance_outgoingemail_change", args=[row.pk]))
    page = change.content.decode()
    assert "Dear Carol &lt;Jones&gt;," in page and "m.ics (text/calendar)" in page
    assert "\ue000" not in page
    preview = staff_client.get(reverse("admin:alliance_outgoingemail_preview", args=[row.pk]))
    assert "<p>Dear Carol &lt;Jones&gt;,</p>" in preview.content.decode()


def test_bulk_rows_keep_every_awkward_value_exactly(alliance):
    """Values that need quoting in an INSERT (on PostgreSQL, in an array's text form)."""
    awkward = ['quote " and \\ backslash', "NULL", "{braces}, commas", "new\nline", "", "élan ✓"]
    with scope(alliance=alliance):
        rows = outbox.enqueue_many(
            alliance=alliance,
            rows=[
                bulk_row(
                    alliance,
                    "awkward-test",
                    n,
                    key=value[:20],
                    subject=f"S {value}",
                    text_body=value or "-",
                    html_body=f"<p>{value}</p>",
                    headers={"X-Test": value, "X-Other": "same"},
                    attachments=[{"filename": "a.txt", "content": value, "mimetype": "text/plain"}],
                )
                for n, value in enumerate(awkward)
            ],
        )
    assert len(rows) == len(awkward)
    for row, value in zip(rows, awkward, strict=True):
        stored = reload(row)
        assert stored.key == value[:20] and stored.text_body == (value or "-")
        assert stored.html_body == f"<p>{value}</p>"
        assert stored.subject == outbox.single_line(f"S {value}")
        assert stored.headers == {"X-Test": outbox.single_line(value), "X-Other": "same"}
        assert stored.attachments[0]["content"] == value
        assert stored.status == Status.QUEUED and stored.created_at == row.created_at


def test_bulk_rows_keep_long_bodies_exactly(alliance):
    """Bodies of a thousand characters and more go as one constant each (digests)."""
    long = ['quote " backslash \\ {braces}, NULL\nnew line élan ✓ ' * 40 + str(n) for n in range(3)]
    assert min(map(len, long)) >= outbox.LONG_TEXT
    with scope(alliance=alliance):
        created = outbox.enqueue_many(
            alliance=alliance,
            rows=[
                bulk_row(alliance, "long-body-test", n, text_body=body, html_body=f"<p>{body}</p>")
                for n, body in enumerate(long)
            ],
        )
    assert [(reload(row).text_body, reload(row).html_body) for row in created] == [
        (body, f"<p>{body}</p>") for body in long
    ]


def test_bulk_rows_that_repeat_values_keep_each_row_its_own(alliance):
    """Values most rows repeat (a member's headers, an event's subject) go once
    each with every row's position among them (on PostgreSQL): nothing mixed up."""
    awkward = ['quote " and \\ backslash', "NULL", "{braces}, commas", "élan ✓", ""]
    count = len(awkward) * outbox.REPEATS * 2
    with scope(alliance=alliance):
        created = outbox.enqueue_many(
            alliance=alliance,
            rows=[
                bulk_row(
                    alliance,
                    "repeat-test",
                    n,
                    key=f"k{n % 3}",
                    subject=f"S {awkward[n % len(awkward)]}",
                    headers={"X-Test": awkward[n % len(awkward)]},
                )
                for n in range(count)
            ],
        )
    assert len(created) == count
    for n, row in enumerate(created):
        stored = reload(row)
        value = awkward[n % len(awkward)]
        assert (stored.recipient, stored.key) == (row.recipient, f"k{n % 3}")
        assert stored.subject == outbox.single_line(f"S {value}")
        assert stored.headers == {"X-Test": value}


def test_an_array_of_bulk_values_has_one_element_per_row():
    """Quoted and escaped in one pass: a NUL in a value must not split it in two."""
    values = ['a "b"', "c\\d", "", "NULL", "x\x00y", 7]
    each = "{" + ",".join(map(outbox._array_element, values)) + "}"
    assert outbox._array_literal(values) == each
    assert each == '{"a \\"b\\"","c\\\\d","","NULL","x\x00y","7"}'
    assert outbox._array_literal(values[:4]) == '{"a \\"b\\"","c\\\\d","","NULL"}'
    assert outbox._array_literal([None, "z"]) == '{NULL,"z"}'


def test_a_bulk_value_too_long_for_its_column_is_never_stored_cut_short(alliance):
    long_key = "k" * 81  # the column holds 80
    try:
        with scope(alliance=alliance), transaction.atomic():
            (row,) = outbox.enqueue_many(
                alliance=alliance, rows=[bulk_row(alliance, "long-test", 0, key=long_key)]
            )
    except DataError:
        assert connection.vendor == "postgresql"  # refused, as bulk_create was
        assert rows(kind="long-test") == []
    else:
        assert connection.vendor == "sqlite"  # which keeps any length
        assert reload(row).key == long_key


def test_a_shared_body_is_only_for_its_own_alliances_rows(alliance):
    other = AllianceFactory()
    with scope(alliance=other):
        body = SharedEmailBody.objects.create(alliance=other, text_body="x", html_body="x")
    with pytest.raises(ValueError, match="own alliance"):
        bulk_row(alliance, "shared-test", 0, shared_body=body)


def test_bulk_rows_queued_before_are_skipped_and_only_new_ones_returned(alliance):
    def row(n):
        return bulk_row(alliance, "again-test", n)

    with scope(alliance=alliance):
        first = outbox.enqueue_many(alliance=alliance, rows=[row(0), row(1)])
        second = outbox.enqueue_many(alliance=alliance, rows=[row(1), row(2), row(2)])
    assert [r.recipient for r in first] == ["member0@example.org", "member1@example.org"]
    assert [r.recipient for r in second] == ["member2@example.org"]
    assert second[0].pk > first[1].pk
    assert len(rows(kind="again-test")) == 3


def test_a_row_is_delivered_once_however_often_it_is_claimed(alliance):
    row = queued(alliance, "once@example.org")
    assert delivery.deliver(row.pk) is Outcome.SENT
    assert delivery.deliver(row.pk) is Outcome.NOT_CLAIMED
    assert len(mail.outbox) == 1


def test_a_row_waiting_for_its_retry_is_not_sent_early(alliance):
    row = queued(alliance, "later@example.org", attempts=1)
    with scopes_disabled():
        OutgoingEmail.objects.filter(pk=row.pk).update(
            next_attempt_at=timezone.now() + timedelta(minutes=5)
        )
    assert delivery.deliver(row.pk) is Outcome.NOT_CLAIMED
    assert mail.outbox == []


def test_account_emails_forget_their_secrets_once_sent():
    row = outbox.enqueue_rendered(
        kind="account", recipient="p@example.org", subject="Code", text_body="Code: 424242"
    )
    delivery.deliver(row.pk)
    assert "424242" in mail.outbox[0].body
    row = reload(row)
    assert row.status == Status.SENT
    assert "424242" not in row.text_body + row.html_body


def test_retry_delay_grows_and_is_capped():
    for attempts, minutes in [(1, 1), (2, 2), (3, 4), (7, 60), (30000, 60)]:
        delay = delivery.retry_delay(attempts)
        assert timedelta(minutes=minutes * 0.8) <= delay <= timedelta(minutes=minutes * 1.2)


class TestSMTP:
    def test_a_451_is_retried_later_and_the_rest_of_the_batch_goes_out(self, smtp_server, alliance):
        smtp_server.replies["greylisted@example.org"] = ["451 4.7.1 Greylisted, try again"]
        first = queued(alliance, "first@example.org")
        greylisted = queued(alliance, "greylisted@example.org")
        last = queued(alliance, "last@example.org")
        age(first, greylisted, last, by=timedelta(minutes=2))

        delivery.sweep_outbox()

        assert [reload(r).status for r in (first, greylisted, last)] == [
            Status.SENT,
            Status.QUEUED,
            Status.SENT,
        ]
        waiting = reload(greylisted)
        assert waiting.attempts == 1 and "451" in waiting.last_error
        assert waiting.next_attempt_at > timezone.now()
        # Not due yet: the next sweep leaves it alone.
        delivery.sweep_outbox()
        assert smtp_server.rcpt_count["greylisted@example.org"] == 1

        make_due(greylisted)
        delivery.sweep_outbox()

        sent = reload(greylisted)
        assert sent.status == Status.SENT and sent.attempts == 2
        for recipient in ("first@example.org", "greylisted@example.org", "last@example.org"):
            assert smtp_server.accepted_by(recipient) == 1, recipient
        message = message_from_bytes(smtp_server.received[-1][1])
        assert message.get_content_type() == "multipart/alternative"

    def test_a_550_fails_for_good(self, smtp_server, alliance):
        smtp_server.replies["nobody@example.org"] = ["550 5.1.1 No such user"]
        row = queued(alliance, "nobody@example.org")
        assert delivery.deliver(row.pk) is Outcome.FAILED
        row = reload(row)
        assert row.status == Status.FAILED and row.next_attempt_at is None
        assert "550 5.1.1 No such user" in row.last_error
        age(row, by=timedelta(hours=2))
        delivery.sweep_outbox()
        assert smtp_server.rcpt_count["nobody@example.org"] == 1
        assert reload(row).status == Status.FAILED

    def test_temporary_errors_give_up_after_the_last_attempt(self, smtp_server, alliance):
        smtp_server.replies["full@example.org"] = ["452 4.2.2 Mailbox full"]
        row = queued(alliance, "full@example.org", attempts=delivery.MAX_ATTEMPTS - 1)
        assert delivery.deliver(row.pk) is Outcome.FAILED
        assert reload(row).status == Status.FAILED

    def test_a_server_that_never_answers_is_given_up_on_within_the_timeout(
        self, silent_server, alliance
    ):
        first = queued(alliance, "first@example.org")
        second = queued(alliance, "second@example.org")
        age(first, second, by=timedelta(minutes=2))

        counts = delivery.sweep_outbox()

        assert counts == {"server unavailable": 1}
        row = reload(first)
        assert row.status == Status.QUEUED and row.attempts == 1
        assert row.next_attempt_at > timezone.now() and row.last_error
        # The server is down: the sweep did not wait for it once per message.
        assert reload(second).attempts == 0


# The sweep
# ------------------------------------------------------------------------------


def test_the_sweep_leaves_fresh_rows_to_the_task_queued_on_commit(alliance):
    row = queued(alliance, "fresh@example.org")
    assert delivery.sweep_outbox() == {}
    assert reload(row).status == Status.QUEUED
    age(row, by=timedelta(minutes=2))
    assert delivery.sweep_outbox() == {"sent": 1}
    assert reload(row).status == Status.SENT


def test_one_sweep_sends_a_backlog_bigger_than_a_batch(alliance):
    """After a broker outage: the backlog goes out in one sweep, not one batch a minute."""
    backlog = [queued(alliance, f"r{n}@example.org") for n in range(delivery.SWEEP_BATCH * 2 + 5)]
    age(*backlog, by=timedelta(minutes=5))
    assert delivery.sweep_outbox() == {"sent": len(backlog)}
    assert len(mail.outbox) == len(backlog)


def test_the_sweep_requeues_rows_a_stopped_worker_left_sending(alliance):
    stuck = queued(alliance, "stuck@example.org", status=Status.SENDING, attempts=1)
    spent = queued(
        alliance, "spent@example.org", status=Status.SENDING, attempts=delivery.MAX_ATTEMPTS
    )
    busy = queued(alliance, "busy@example.org", status=Status.SENDING, attempts=1)
    age(stuck, spent, by=timedelta(minutes=11))
    age(busy, by=timedelta(minutes=2))  # a worker may still be on it

    counts = delivery.sweep_outbox()

    assert counts == {"requeued stuck": 1, "sent": 1}
    stuck = reload(stuck)
    assert stuck.status == Status.SENT and stuck.attempts == 2
    assert "may arrive twice" in stuck.last_error
    spent = reload(spent)
    assert spent.status == Status.FAILED and "attempts are used" in spent.last_error
    assert reload(busy).status == Status.SENDING
    assert [m.to for m in mail.outbox] == [["stuck@example.org"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql" and not os.environ.get("CI"),
    reason="SKIP LOCKED needs PostgreSQL; CI runs it there (and fails it on any other database)",
)
def test_a_row_another_worker_is_claiming_is_skipped_not_waited_for():
    alliance = AllianceFactory()
    row = queued(alliance, "contended@example.org")
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with scope(alliance=alliance), transaction.atomic():
                OutgoingEmail.objects.select_for_update().get(pk=row.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert delivery.deliver(row.pk) is Outcome.NOT_CLAIMED
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join()
    assert mail.outbox == []
    assert delivery.deliver(row.pk) is Outcome.SENT


def test_the_worker_registers_the_tasks_and_beat_runs_the_sweep_every_minute():
    from alliance.celery_app import app

    assert "alliance.notifications.tasks" in app.conf.imports
    app.loader.import_default_modules()
    assert {"notifications.deliver_outgoing_email", "notifications.sweep_outbox"} <= set(app.tasks)
    entry = app.conf.beat_schedule["notifications.sweep_outbox"]
    assert entry["task"] == "notifications.sweep_outbox" and entry["schedule"] <= 60


# Routed through the outbox
# ------------------------------------------------------------------------------


def test_a_password_reset_email_goes_through_the_outbox(
    client, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": tenant_a.member.email})
    (row,) = rows(kind="account")
    assert row.alliance is None and row.recipient == tenant_a.member.email
    assert row.key.startswith("password_reset_key:")
    assert row.status == Status.SENT
    (message,) = [m for m in mail.outbox if m.to == [tenant_a.member.email]]
    assert "/accounts/password/reset/key/" in message.body
    assert message.alternatives[0][1] == "text/html"


def test_an_invitation_and_its_resend_are_two_rows(tenant_a, django_capture_on_commit_callbacks):
    from members import services
    from members.models import Role

    with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant_a.alliance):
        invitation = services.invitation_create(
            alliance=tenant_a.alliance,
            email="invited@example.org",
            role=Role.CEO,
            invited_by=tenant_a.staff,
            organization=tenant_a.organization,
        )
        services.invitation_resend(invitation=invitation)
    sent = rows(kind="invitation")
    assert [(r.recipient, r.alliance_id, r.status) for r in sent] == [
        ("invited@example.org", tenant_a.alliance.pk, Status.SENT)
    ] * 2
    assert sent[0].key != sent[1].key
    assert sent[0].object_ref == f"members.invitation:{invitation.pk}"


# The admin
# ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def test_staff_see_only_their_alliances_mail(staff_client, tenant_a, tenant_b):
    account = outbox.enqueue_rendered(
        kind="account", recipient="p@example.org", subject="Account mail", text_body="x"
    )
    response = staff_client.get(reverse("admin:alliance_outgoingemail_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert tenant_a.outgoing_email.subject in page
    assert tenant_b.outgoing_email.subject not in page
    assert account.subject not in page
    for name in ("change", "preview"):
        url = reverse(f"admin:alliance_outgoingemail_{name}", args=[tenant_b.outgoing_email.pk])
        assert staff_client.get(url).status_code in (302, 404), name


def test_superusers_see_account_mail(client, tenant_a, totp_for):
    account = outbox.enqueue_rendered(
        kind="account", recipient="p@example.org", subject="Account mail", text_body="x"
    )
    superuser = UserFactory(is_staff=True, is_superuser=True)
    totp_for(superuser)
    client.force_login(superuser)
    page = client.get(reverse("admin:alliance_outgoingemail_changelist")).content.decode()
    assert account.subject in page and tenant_a.outgoing_email.subject in page


def test_the_preview_never_runs_the_bodys_script(staff_client, tenant_a):
    email = tenant_a.outgoing_email
    with scope(alliance=tenant_a.alliance):
        OutgoingEmail.objects.filter(pk=email.pk).update(
            html_body='<p style="color:red">Hi</p><script>alert("pwned")</script>'
        )
    change = staff_client.get(reverse("admin:alliance_outgoingemail_change", args=[email.pk]))
    page = change.content.decode()
    preview_url = reverse("admin:alliance_outgoingemail_preview", args=[email.pk])
    assert change.status_code == 200
    assert f'<iframe src="{preview_url}" sandbox=""' in page
    assert "pwned" not in page
    assert header_problems(dict(change.headers), page) == []

    preview = staff_client.get(preview_url)
    assert preview.status_code == 200
    csp = [part.strip() for part in preview["Content-Security-Policy"].split(";")]
    assert "sandbox" in csp  # no allow-scripts: nothing in it runs
    assert "default-src 'none'" in csp
    assert not [part for part in csp if part.startswith("script-src")]
    assert preview["X-Frame-Options"] == "SAMEORIGIN"


def test_rows_are_read_only_and_staff_cannot_add_or_delete(staff_client, tenant_a):
    email = tenant_a.outgoing_email
    url = reverse("admin:alliance_outgoingemail_change", args=[email.pk])
    staff_client.post(url, {"subject": "Edited", "text_body": "Edited"})
    assert reload(email).subject == tenant_a.outgoing_email.subject
    assert staff_client.get(reverse("admin:alliance_outgoingemail_add")).status_code == 403
    delete = reverse("admin:alliance_outgoingemail_delete", args=[email.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert reload(email)


def test_retry_sends_a_failed_row_again(staff_client, tenant_a, django_capture_on_commit_callbacks):
    failed = tenant_a.outgoing_email
    with scope(alliance=tenant_a.alliance):
        sent = OutgoingEmailFactory(alliance=tenant_a.alliance, status=Status.SENT, attempts=1)
        OutgoingEmail.objects.filter(pk=failed.pk).update(
            status=Status.FAILED, attempts=8, last_error="550 No such user"
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:alliance_outgoingemail_changelist"),
            {"action": "retry", "_selected_action": [failed.pk, sent.pk]},
        )
    assert response.status_code == 302
    failed = reload(failed)
    assert failed.status == Status.SENT and failed.attempts == 1
    assert [m.to for m in mail.outbox] == [[failed.recipient]]
    assert reload(sent).attempts == 1  # left alone


def test_bulk_rows_go_to_the_broker_in_chunks_and_are_all_delivered(
    alliance, django_capture_on_commit_callbacks, monkeypatch
):
    from alliance.notifications.tasks import deliver_outgoing_emails

    published = []
    publish = deliver_outgoing_emails.apply_async

    def recording(args, **options):
        published.append(list(args[0]))
        return publish(args, **options)

    monkeypatch.setattr(deliver_outgoing_emails, "apply_async", recording)
    count = outbox.DELIVERY_CHUNK * 2 + 1
    with scope(alliance=alliance), django_capture_on_commit_callbacks(execute=True):
        created = outbox.enqueue_many(
            alliance=alliance,
            rows=[bulk_row(alliance, "bulk-test", n) for n in range(count)],
        )
    assert [len(chunk) for chunk in published] == [outbox.DELIVERY_CHUNK] * 2 + [1]
    assert sorted(pk for chunk in published for pk in chunk) == [row.pk for row in created]
    assert {row.status for row in rows(kind="bulk-test")} == {Status.SENT}
    assert len(mail.outbox) == count


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql" and not os.environ.get("CI"),
    reason="column compression is PostgreSQL's; CI runs it there (and fails it elsewhere)",
)
def test_outbox_bodies_are_compressed_with_lz4():
    # Migration 0008: pglz was half the time of a digest batch's INSERT.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute"
            " WHERE attrelid = 'alliance_outgoingemail'::regclass"
            " AND attname IN ('text_body', 'html_body', 'attachments')"
        )
        assert dict(cursor.fetchall()) == {"text_body": "l", "html_body": "l", "attachments": "l"}
