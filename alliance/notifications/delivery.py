"""Sending outbox rows (see outbox.py): claim, send, and retry or give up.

Delivery is at least once, never by two workers at a time. A worker first
claims a row (queued → sending, attempts + 1) in a short transaction, then talks
to the SMTP server outside any transaction, then records the outcome:

* accepted: sent, with `sent_at`;
* a temporary error (4xx, a dropped or refused connection, a timeout after
  EMAIL_TIMEOUT): queued again with `next_attempt_at` after an exponential
  backoff; the sweep, not a delayed Celery task, tries again;
* a permanent error (a 5xx about this message) or MAX_ATTEMPTS used up: failed;
  staff can send it again from the admin ("Retry").

A worker that dies between claim and outcome leaves the row "sending"; the
sweep queues it again after STUCK_AFTER and says in `last_error` that it may
arrive twice (the server may have accepted it). Each row has a fixed
Message-ID, so mail clients that notice show a repeat once.
"""

import base64
import logging
import secrets
import smtplib
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from enum import Enum, StrEnum
from functools import lru_cache

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from alliance.models import OutgoingEmail
from alliance.notifications.content import content_of
from alliance.notifications.mime import OutboxEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

MAX_ATTEMPTS = 8
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=1)
RETRY_JITTER = 0.2  # ±20%, so rows that failed together do not retry together
# The Celery task queued on commit gets this long before the sweep sends a new row.
SWEEP_GRACE = timedelta(minutes=1)
# Longer than CELERY_TASK_TIME_LIMIT: a worker still sending is never robbed.
STUCK_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 50
# Well inside the sweep task's soft time limit, however slow the server is.
SWEEP_TIME_BUDGET = timedelta(minutes=2)
# Account emails carry sign-in secrets (reset keys, codes): not kept once sent.
KINDS_FORGOTTEN_AFTER_SENDING = frozenset({"account"})
FORGOTTEN_BODY = "(Removed once sent: it contained a sign-in link or code.)"
STUCK_NOTE = (
    "A worker stopped while sending this message (noticed {found:%Y-%m-%d %H:%M} UTC); "
    "the server may already have accepted it."
)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY_LATER = "retry later"
    # Temporary, and about the server rather than this message: the sweep stops.
    SERVER_UNAVAILABLE = "server unavailable"
    FAILED = "failed"
    # Not queued, not due yet, or claimed by another worker.
    NOT_CLAIMED = "not claimed"


class _Failure(Enum):
    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    SERVER = "server"


@contextmanager
def _across_alliances():
    # Reviewed unscoped site (docs/tenancy.md): rows by ids our own code queued,
    # and the sweep over every alliance's due rows; account emails belong to no
    # alliance, so there is no scope to enter.
    with scopes_disabled():
        yield


def deliver(outgoing_email_id: int) -> Outcome:
    """Send one row if it is queued and due; never raises for an SMTP error."""
    with _across_alliances():
        return _deliver(outgoing_email_id)


def sweep_outbox() -> dict[str, int]:
    """Queue stuck rows again, then send due queued rows, oldest first, inline.

    Safe to run concurrently: every row is claimed before it is sent. Stops
    early when the server is unavailable or the time budget is spent; what
    is left stays queued for the next run.
    """
    with _across_alliances():
        outcomes = Counter({"requeued stuck": _requeue_stuck()})
        outcomes.update(_send_due())
    counts = {name: count for name, count in outcomes.items() if count}
    if counts:
        logger.info("Outbox sweep: %s", counts)
    return counts


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after attempts 1, 2, 3 …, at most an hour, with jitter."""
    doublings = min(max(attempts - 1, 0), 16)  # past the cap long before; no overflow
    delay = min(FIRST_RETRY_DELAY * 2**doublings, MAX_RETRY_DELAY)
    return delay * secrets.SystemRandom().uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)


def _due(now: datetime) -> Q:
    return Q(status=Status.QUEUED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _deliver(pk: int) -> Outcome:
    row = _claim(pk)
    if row is None:
        return Outcome.NOT_CLAIMED
    try:
        _message_for(row).send()
    except Exception as error:
        return _record_failure(row, error)
    _record_sent(row)
    return Outcome.SENT


def _claim(pk: int) -> OutgoingEmail | None:
    with transaction.atomic():
        # skip_locked: a row another worker is claiming right now is theirs;
        # once they commit it is "sending" and no longer matches.
        row = (
            OutgoingEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("shared_body")
            .filter(_due(timezone.now()), pk=pk)
            .first()
        )
        if row is None:
            return None
        row.status = Status.SENDING
        row.attempts += 1
        row.save(update_fields=["status", "attempts", "updated_at"])
    return row


def _message_for(row: OutgoingEmail) -> OutboxEmail:
    headers = dict(row.headers)
    if "message-id" not in {name.lower() for name in headers}:
        headers["Message-ID"] = _message_id(row)
    content = content_of(row)
    inline = [a for a in content.attachments if a.get("cid") and "content_base64" in a]
    message = OutboxEmail(
        subject=row.subject,
        body=content.text,
        from_email=row.from_email,
        to=[row.recipient],
        reply_to=[row.reply_to] if row.reply_to else None,
        headers=headers,
        inline_images=inline,
    )
    message.attach_alternative(content.html, "text/html")
    for attachment in content.attachments:
        if attachment in inline:
            continue
        if "content_base64" in attachment:
            data = base64.b64decode(attachment["content_base64"])
        else:
            data = attachment["content"]
        message.attach(attachment["filename"], data, attachment.get("mimetype"))
    return message


def _message_id(row: OutgoingEmail) -> str:
    return f"<outbox.{row.pk}.{_stamp(row.created_at)}@{_domain_of(row.from_email)}>"


@lru_cache(maxsize=64)
def _stamp(moment: datetime) -> str:
    # A bulk INSERT gives its rows one created_at: formatted once, not per message.
    return f"{moment:%Y%m%d%H%M%S}"


@lru_cache(maxsize=64)
def _domain_of(address: str) -> str:
    # A few senders send everything: parsed once each, not per message (a
    # twentieth of building a digest).
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def _record_sent(row: OutgoingEmail) -> None:
    fields = {"status": Status.SENT, "sent_at": timezone.now(), "next_attempt_at": None}
    if row.kind in KINDS_FORGOTTEN_AFTER_SENDING:
        fields.update(text_body=FORGOTTEN_BODY, html_body=FORGOTTEN_BODY)
    _finish(row, **fields)


def _record_failure(row: OutgoingEmail, error: Exception) -> Outcome:
    failure = _classify(error)
    now = timezone.now()
    note = f"{now:%Y-%m-%d %H:%M:%S} UTC, attempt {row.attempts}: {_describe(error)}"[:2000]
    # Anything but an SMTP answer or a network error is a bug: log its traceback.
    log = logger.warning if isinstance(error, OSError) else logger.exception
    if failure is _Failure.PERMANENT or row.attempts >= MAX_ATTEMPTS:
        log("Outbox row %s failed for good: %s", row.pk, note)
        _finish(row, status=Status.FAILED, last_error=note, next_attempt_at=None)
        return Outcome.FAILED
    log("Outbox row %s will be retried: %s", row.pk, note)
    _finish(
        row,
        status=Status.QUEUED,
        last_error=note,
        next_attempt_at=now + retry_delay(row.attempts),
    )
    return Outcome.SERVER_UNAVAILABLE if failure is _Failure.SERVER else Outcome.RETRY_LATER


def _finish(row: OutgoingEmail, **fields) -> None:
    # Only from "sending": had the sweep taken the row back as stuck, its
    # decision stands.
    OutgoingEmail.objects.filter(pk=row.pk, status=Status.SENDING).update(
        **fields, updated_at=timezone.now()
    )


def _classify(error: Exception) -> _Failure:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        permanent = codes and all(500 <= code < 600 for code in codes)
        return _Failure.PERMANENT if permanent else _Failure.TEMPORARY
    if isinstance(
        error,
        smtplib.SMTPConnectError | smtplib.SMTPHeloError | smtplib.SMTPAuthenticationError,
    ):
        # Even as a 5xx these are about our connection or credentials, not the
        # message: retried (and every other message would fare the same).
        return _Failure.SERVER
    if isinstance(error, smtplib.SMTPResponseException):
        if 500 <= error.smtp_code < 600:
            return _Failure.PERMANENT
        if error.smtp_code == 421:  # the server is closing the connection
            return _Failure.SERVER
        return _Failure.TEMPORARY
    if isinstance(error, OSError):
        # Disconnects, timeouts, refused connections, TLS errors (smtplib's
        # exceptions are OSErrors too).
        return _Failure.SERVER
    # Not an SMTP answer at all: retried, up to MAX_ATTEMPTS.
    return _Failure.TEMPORARY


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address} refused: {code} {_text(message)}"
            for address, (code, message) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _requeue_stuck() -> int:
    now = timezone.now()
    stuck = OutgoingEmail.objects.filter(status=Status.SENDING, updated_at__lt=now - STUCK_AFTER)
    ids = list(stuck.values_list("pk", flat=True))
    if not ids:
        return 0
    logger.warning("Outbox rows %s were left sending by a stopped worker.", ids)
    note = STUCK_NOTE.format(found=now)
    # Conditional updates: a concurrent sweep that got there first matches nothing.
    stuck.filter(pk__in=ids, attempts__gte=MAX_ATTEMPTS).update(
        status=Status.FAILED,
        last_error=f"{note} Not sent again: all {MAX_ATTEMPTS} attempts are used.",
        next_attempt_at=None,
        updated_at=now,
    )
    return stuck.filter(pk__in=ids).update(
        status=Status.QUEUED,
        last_error=f"{note} Sent again, so it may arrive twice.",
        next_attempt_at=now,
        updated_at=now,
    )


def _send_due() -> Counter:
    """Due rows, batch after batch, until none is left or the time budget is spent.

    After a broker outage thousands of rows may be waiting: one batch a minute
    would take hours.
    """
    started = time.monotonic()
    outcomes = Counter()
    while time.monotonic() - started < SWEEP_TIME_BUDGET.total_seconds():
        now = timezone.now()
        # A row never tried waits SWEEP_GRACE for the task queued on its commit.
        due = list(
            OutgoingEmail.objects.filter(_due(now))
            .filter(Q(next_attempt_at__isnull=False) | Q(updated_at__lte=now - SWEEP_GRACE))
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if not due:
            break
        progressed = False
        for pk in due:
            if time.monotonic() - started > SWEEP_TIME_BUDGET.total_seconds():
                return outcomes
            outcome = _deliver(pk)
            outcomes[outcome.value] += 1
            if outcome is Outcome.SERVER_UNAVAILABLE:
                return outcomes
            progressed |= outcome is not Outcome.NOT_CLAIMED
        if not progressed:
            break  # every row is another worker's right now
    return outcomes


# Monitoring
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxHealth:
    waiting_too_long: int  # queued or sending for longer than the limit
    failed: int  # failed within the window: staff retry them in the admin
    oldest_waiting_minutes: int | None

    @property
    def stuck(self) -> bool:
        return bool(self.waiting_too_long or self.failed)


def outbox_health(*, waiting_longer_than: timedelta, failed_within: timedelta) -> OutboxHealth:
    """Mail that should have gone, over every alliance (`manage.py check_outbox`)."""
    now = timezone.now()
    with _across_alliances():
        waiting = OutgoingEmail.objects.filter(status__in=[Status.QUEUED, Status.SENDING])
        figures = waiting.aggregate(
            oldest=Min("created_at"),
            too_long=Count("pk", filter=Q(created_at__lt=now - waiting_longer_than)),
        )
        failed = OutgoingEmail.objects.filter(
            status=Status.FAILED, updated_at__gte=now - failed_within
        ).count()
    oldest = figures["oldest"]
    minutes = None if oldest is None else int((now - oldest).total_seconds() // 60)
    return OutboxHealth(
        waiting_too_long=figures["too_long"], failed=failed, oldest_waiting_minutes=minutes
    )
