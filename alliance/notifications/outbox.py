"""The outbox: every email the portal sends is first a row here.

`enqueue` renders the message and creates its OutgoingEmail row inside the
caller's transaction, so the change and its mail commit together (or neither
does); after the commit a Celery task delivers it (delivery.py). A periodic
sweep re-sends rows left queued (broker down, worker killed, temporary SMTP
error), so nothing is silently lost.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial, reduce
from operator import attrgetter, or_

from django.conf import settings
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize
from django_scopes import scope
from kombu.exceptions import OperationalError as BrokerUnavailable

from alliance.models import Alliance, OutgoingEmail, SharedEmailBody
from alliance.notifications.tasks import deliver_outgoing_email, deliver_outgoing_emails

logger = logging.getLogger(__name__)

# Bulk mail goes to the broker in chunks: publishing one task per row cost
# 3 ms a message (a third of a reminder run), and a publish still costs a
# millisecond or two. A chunk is a few seconds of SMTP, well inside the task
# time limit; a large run is still dozens of tasks for the workers to share.
DELIVERY_CHUNK = 200


def single_line(value) -> str:
    # Header injection: a CR or LF in a name must never start a new header.
    return " ".join(str(value).split())


def object_ref(obj: models.Model | None) -> str:
    """'app_label.model:pk', the outbox's name for what a message is about."""
    if obj is None:
        return ""
    return f"{obj._meta.label_lower}:{obj.pk}"


def render_message(*, template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) from `<template>_subject.txt`, `.txt` and `.html`."""
    context = {
        "SITE_BASE_URL": settings.SITE_BASE_URL,
        "PORTAL_NAME": settings.PORTAL_NAME,
        **context,
    }
    subject = single_line(render_to_string(f"{template}_subject.txt", context))
    return (
        subject,
        render_to_string(f"{template}.txt", context),
        render_to_string(f"{template}.html", context),
    )


def html_from_text(*, text: str, title: str) -> str:
    """A plain HTML part for a message that has only text (allauth's emails)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;">\n'
        f"{linebreaks(urlize(escape(text)))}\n</body>\n</html>\n"
    )


def enqueue(
    *,
    kind: str,
    recipient: str,
    template: str,
    context: dict,
    alliance: Alliance | None = None,
    about: models.Model | None = None,
    key: str = "",
    reply_to: str = "",
    headers: dict | None = None,
    attachments: list[dict] | None = None,
) -> OutgoingEmail | None:
    """Queue one email; None when this (kind, about, recipient, key) was queued before.

    Call inside the transaction of the change that causes the message.
    `attachments`: [{"filename", "content" (text), "mimetype"}].
    """
    subject, text, html = render_message(template=template, context=context)
    return enqueue_rendered(
        kind=kind,
        recipient=recipient,
        subject=subject,
        text_body=text,
        html_body=html,
        alliance=alliance,
        about=about,
        key=key,
        reply_to=reply_to,
        headers=headers,
        attachments=attachments,
    )


def enqueue_rendered(
    *,
    kind: str,
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    alliance: Alliance | None = None,
    about: models.Model | None = None,
    key: str = "",
    from_email: str = "",
    reply_to: str = "",
    headers: dict | None = None,
    attachments: list[dict] | None = None,
) -> OutgoingEmail | None:
    """`enqueue` for a message rendered elsewhere (allauth's account emails).

    Without `html_body` the HTML part is made from the text: every message
    the portal sends is multipart text + HTML.
    """
    row = new_row(
        alliance=alliance,
        kind=kind,
        about=about,
        recipient=recipient,
        key=key,
        from_email=from_email,
        reply_to=reply_to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=headers,
        attachments=attachments,
    )
    row = row.as_model()
    try:
        # A savepoint: a duplicate must not break the caller's transaction.
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # Looked up in the row's own alliance (or among account emails, which
        # have none), never across alliances.
        if (
            OutgoingEmail.objects.with_scope(alliance=alliance)
            .filter(
                alliance=alliance,
                kind=kind,
                object_ref=row.object_ref,
                recipient=row.recipient,
                key=key,
            )
            .exists()
        ):
            return None
        raise
    _deliver_after_commit(row.pk)
    return row


@dataclass(slots=True, eq=False)
class NewEmail:
    """An outbox row not written yet: what `new_row` makes and `enqueue_many` writes.

    Plain values rather than an OutgoingEmail: a reminder sweep makes 9,000,
    and building each as a model instance (Model.__init__, the foreign key
    descriptors) was a tenth of the sweep. `pk` and `created_at` are set once
    it is written.
    """

    alliance_id: int | None
    kind: str
    object_ref: str
    recipient: str
    key: str
    from_email: str
    reply_to: str
    subject: str
    text_body: str
    html_body: str
    headers: dict[str, str]
    attachments: list[dict]
    # Possibly unsaved when the row is made (a reminder run stores its bodies
    # just before the INSERT): its id is read when the row is written.
    shared_body: SharedEmailBody | None
    fills: dict[str, str]
    pk: int | None = None
    created_at: datetime.datetime | None = None

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.kind, self.object_ref, self.recipient, self.key)

    @property
    def shared_body_id(self) -> int | None:
        return None if self.shared_body is None else self.shared_body.pk

    def as_model(self) -> OutgoingEmail:
        return OutgoingEmail(
            **{name: getattr(self, name) for name in _NEW_EMAIL_COLUMNS},
            shared_body=self.shared_body,
        )


# What a NewEmail sets of an OutgoingEmail; every other column takes its default.
_NEW_EMAIL_COLUMNS = (
    "alliance_id",
    "kind",
    "object_ref",
    "recipient",
    "key",
    "from_email",
    "reply_to",
    "subject",
    "text_body",
    "html_body",
    "headers",
    "attachments",
    "fills",
)


def new_row(
    *,
    kind: str,
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    alliance: Alliance | None = None,
    about: models.Model | None = None,
    key: str = "",
    from_email: str = "",
    reply_to: str = "",
    headers: dict | None = None,
    attachments: list[dict] | None = None,
    shared_body: SharedEmailBody | None = None,
    fills: dict[str, str] | None = None,
) -> NewEmail:
    """An outbox row to write, cleaned as every row is (one-line headers, an HTML part).

    With `shared_body` the row sends those parts with `fills` put in (see
    `content_of`), and its own `text_body` and `html_body` stay empty.
    """
    subject = single_line(subject)
    if shared_body is None:
        html_body = html_body or html_from_text(text=text_body, title=subject)
    elif alliance is None or shared_body.alliance_id != alliance.pk:
        # content_of reads the body by its id alone: never another alliance's.
        raise ValueError("A shared body is only for rows of its own alliance.")
    return NewEmail(
        alliance_id=None if alliance is None else alliance.pk,
        kind=kind,
        object_ref=object_ref(about),
        recipient=recipient.strip(),
        key=key,
        from_email=single_line(from_email or settings.DEFAULT_FROM_EMAIL),
        reply_to=single_line(reply_to),
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=_one_line(headers or {}),
        attachments=attachments or [],
        shared_body=shared_body,
        fills=fills or {},
    )


def _one_line(headers: dict[str, str]) -> dict[str, str]:
    """The headers with each value on one line: the same dict when they are.

    Rows of a bulk run share their recipient's headers, and the INSERT
    writes each dict once (`_column_values`); nothing changes them after.
    """
    cleaned = {name: single_line(value) for name, value in headers.items()}
    return headers if cleaned == headers else cleaned


def enqueue_many(
    *, alliance: Alliance, rows: list[NewEmail], deliver_after_commit: bool = True
) -> list[NewEmail]:
    """Queue many rows of one alliance with one INSERT; returns those that are new.

    For bulk mail (reminders, digests). A row whose (kind, object, recipient,
    key) exists already — an earlier run, or a racing one — is skipped by the
    unique constraint. Call inside the transaction that decides the mail.
    Two queries, whatever the number of rows. Without `deliver_after_commit`
    the caller sends the new rows' ids to `send_for_delivery` once committed.
    """
    if not rows:
        return []
    wanted = {row.identity: row for row in rows}
    if connection.vendor == "postgresql":
        created = _insert_new_postgresql(wanted)
    else:
        created = _insert_new(alliance, wanted)
    created.sort(key=lambda row: row.pk)
    if deliver_after_commit:
        _deliver_all_after_commit([row.pk for row in created])
    return created


class Writer:
    """Writes a run's outbox rows a part at a time (reminders, digests).

    Hand it each part as `write(deliver_after_commit=…)`, which returns the
    rows it wrote (`enqueue_many` with its arguments bound, say). Inside a
    caller's transaction, or on a database other than PostgreSQL, a part is
    written there and then, in the caller's transaction. Otherwise (a
    worker's run, which owns its transactions) it is written in a transaction
    of its own on a second connection, while the caller renders the next
    part: the writes were 40% of a 10,000-registration reminder sweep and a
    fifth of a digest run, and PostgreSQL does them on another core. Writing
    after the caller's claim or page is over is safe: the outbox's unique
    constraint is what makes each message go once, and a run that dies
    before a write leaves those messages to the next run.
    """

    def __init__(self, alliance: Alliance, *, name: str):
        self.alliance = alliance
        self.name = name
        self.counts = Counter()
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def __enter__(self) -> Writer:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        return self

    def __call__(self, write: Callable[..., list[NewEmail]]) -> None:
        if self._thread is None:
            # Delivered after the caller's transaction commits.
            self.counts.update(row.kind for row in write())
            return
        # One part in hand at a time: its write's error surfaces here, and
        # rendered rows never pile up behind a slow database.
        written = self._written()
        self._pending = self._thread.submit(self._write_apart, write)
        # Sent for delivery from here, while the next part is written: the
        # writer is the busier of the two threads.
        self._deliver(written)

    def _write_apart(self, write: Callable[..., list[NewEmail]]) -> list[tuple[int, str]]:
        # django-scopes keeps its state in a ContextVar, which a thread does
        # not inherit.
        with scope(alliance=self.alliance), transaction.atomic():
            rows = write(deliver_after_commit=False)
        # Ids and kinds only: the rows' bodies go as soon as they are written,
        # not once the caller has rendered the next part.
        return [(row.pk, row.kind) for row in rows]

    def _written(self) -> list[tuple[int, str]]:
        """(id, kind) of the rows of the part in hand, once written and committed."""
        pending, self._pending = self._pending, None
        return [] if pending is None else pending.result()

    def _deliver(self, written: list[tuple[int, str]]) -> None:
        self.counts.update(kind for _pk, kind in written)
        if written:
            send_for_delivery([pk for pk, _kind in written])

    def __exit__(self, error_type, error, traceback) -> None:
        if self._thread is None:
            return
        try:
            if error is None:
                self._deliver(self._written())
            elif self._pending is not None:
                wait([self._pending])  # the run's own error is the one raised
        finally:
            # The second connection is the writer thread's own: closed there.
            self._thread.submit(connections.close_all).result()
            self._thread.shutdown()


def _insert_new(alliance: Alliance, wanted: dict[tuple, NewEmail]) -> list[NewEmail]:
    """Insert the rows (by identity) whose identity is not queued yet; returns those.

    A row queued before, by an earlier or a racing run, is kept and ours
    skipped (delivery claims each row once).
    """
    new = {identity: row.as_model() for identity, row in wanted.items()}
    OutgoingEmail.objects.bulk_create(new.values(), ignore_conflicts=True)
    # ignore_conflicts leaves the pks unknown: find the rows this call wrote.
    # bulk_create set each one's created_at (to the microsecond): a row with
    # the same identity but another created_at is someone else's.
    objects_by_kind_and_key = defaultdict(set)
    for kind, ref, _recipient, key in new:
        objects_by_kind_and_key[kind, key].add(ref)
    # One condition per (kind, key) with the objects in an IN list: an OR with a
    # term per row (thousands in a reminder batch) took PostgreSQL minutes.
    mine = OutgoingEmail.objects.filter(
        reduce(
            or_,
            (
                Q(kind=kind, key=key, object_ref__in=sorted(refs))
                for (kind, key), refs in sorted(objects_by_kind_and_key.items())
            ),
        ),
        alliance=alliance,
        status=OutgoingEmail.Status.QUEUED,
        attempts=0,
    )
    created = []
    for pk, created_at, *key in mine.values_list(
        "pk", "created_at", "kind", "object_ref", "recipient", "key"
    ):
        identity = tuple(key)
        model = new.get(identity)
        if model is not None and wanted[identity].pk is None and model.created_at == created_at:
            row = wanted[identity]
            row.pk, row.created_at = pk, created_at
            created.append(row)
    return created


def _insert_new_postgresql(wanted: dict[tuple, NewEmail]) -> list[NewEmail]:
    """`_insert_new` in one statement: INSERT … SELECT FROM unnest(…) ON CONFLICT
    DO NOTHING RETURNING, which names exactly the rows it wrote.

    A reminder sweep writes 9,000 rows: bulk_create prepared every value of
    every field in Python (1.9 s for rows of a few hundred bytes) and needed a
    second query to find which rows were new; this sends one array per column,
    and a column whose value is the same in every row once.
    """
    new = list(wanted.values())
    now = timezone.now()
    quote = connection.ops.quote_name
    meta = OutgoingEmail._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    selected, params, columns, arrays = [], [], [], []
    for field in fields:
        if field.attname in _NEW_EMAIL_COLUMNS or field.attname == "shared_body_id":
            values = list(map(attrgetter(field.attname), new))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values = [now]
        else:
            values = [field.get_default()]
        # Without a length: a cast to varchar(n) would cut a long value short
        # where the INSERT into the column refuses it, as bulk_create did.
        cast = re.sub(r"\(\d+\)", "", field.db_type(connection))
        # The recipient always goes as an array: unnest needs at least one.
        if field.column != "recipient" and values.count(values[0]) == len(values):
            selected.append(f"%s::{cast}")
            params.append(_column_values(field, values[:1])[0])
            continue
        values = _column_values(field, values)
        columns.append(field.column)
        distinct = dict.fromkeys(values)
        if len(distinct) * REPEATS > len(values):
            selected.append(f"u.{quote(field.column)}")
            arrays.append((values, cast))
            continue
        # Each value once, and each row its position: a reminder sweep's rows
        # repeat their members' headers and fills (500 characters) and their
        # events' subjects, which PostgreSQL would otherwise parse every time.
        for position, value in enumerate(distinct, start=1):
            distinct[value] = position
        selected.append(f"(%s::{cast}[])[u.{quote(field.column)}]")
        params.append(_array_literal(list(distinct)))
        arrays.append(([distinct[value] for value in values], "integer"))
    # Only the model's own table, columns and types go into the text; every
    # value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)}"  # noqa: S608
        f" ({', '.join(quote(field.column) for field in fields)})"
        f" SELECT {', '.join(selected)}"
        f" FROM unnest({', '.join(f'%s::{cast}[]' for _values, cast in arrays)})"
        f" AS u({', '.join(quote(column) for column in columns)})"
        " ON CONFLICT DO NOTHING"
        f" RETURNING {quote(meta.pk.column)}, kind, object_ref, recipient, key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *(_array_parameter(values) for values, _cast in arrays)])
        written = cursor.fetchall()
    created = []
    for pk, *identity in written:
        row = wanted[tuple(identity)]
        row.pk, row.created_at = pk, now
        created.append(row)
    return created


def _array_parameter(values: list) -> str | list:
    """One column's values as one parameter: an array literal, or for long
    texts (a digest's HTML) the list, which psycopg2 sends as a constant per
    value. PostgreSQL parses the array text form a character at a time: for
    500 digests' bodies that took twice as long as their constants."""
    if set(map(type, values)) == {str} and sum(map(len, values)) >= LONG_TEXT * len(values):
        return values
    return _array_literal(values)


# Characters from which a column's values go as constants, not an array literal.
LONG_TEXT = 1000
# A column whose rows repeat each value this many times or more, on average,
# sends each value once (see _insert_new_postgresql).
REPEATS = 4


def _array_literal(values: list) -> str:
    """A PostgreSQL array in its text form, sent as one parameter.

    psycopg2 sends a list as ARRAY[…] with a constant per element: 9,000 rows
    made 70,000 constants for the server to parse, most of the INSERT's time.
    """
    if set(map(type, values)) <= {str, int}:
        # Every element quoted and escaped in one pass over the whole (a call
        # per element was a tenth of a reminder sweep), with NUL between them:
        # PostgreSQL text never holds one.
        joined = "\0".join(map(str, values))
        # Else a value holds a NUL: sent as it is below, for psycopg2 to refuse.
        if joined.count("\0") == len(values) - 1:
            joined = joined.replace("\\", "\\\\").replace('"', '\\"')
            return '{"' + joined.replace("\0", '","') + '"}'
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime.datetime):
        value = value.isoformat()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _column_values(field: models.Field, values: list) -> list:
    # What the column stores: JSON as text (cast to jsonb in SQL); every other
    # field of the outbox is a string, a number, a datetime or None already.
    if not isinstance(field, models.JSONField):
        return values
    # Rows often share one dict (a member's fills in a reminder run): each
    # object is written once.
    encode = (field.encoder or json.JSONEncoder)().encode
    written = {}
    texts = []
    for value in values:
        text = written.get(id(value))
        if text is None:
            text = written[id(value)] = encode(value)
        texts.append(text)
    return texts


def requeue_failed(*, rows: QuerySet[OutgoingEmail]) -> int:
    """Send failed rows again, from a fresh retry schedule; returns how many.

    Rows in any other status are left alone. Delivery starts after the
    caller's transaction commits; `last_error` keeps why the last try failed.
    """
    ids = list(rows.filter(status=OutgoingEmail.Status.FAILED).values_list("pk", flat=True))
    rows.filter(pk__in=ids, status=OutgoingEmail.Status.FAILED).update(
        status=OutgoingEmail.Status.QUEUED,
        attempts=0,
        next_attempt_at=None,
        updated_at=timezone.now(),
    )
    for pk in ids:
        _deliver_after_commit(pk)
    return len(ids)


def _deliver_all_after_commit(ids: list[int]) -> None:
    if ids:
        transaction.on_commit(partial(send_for_delivery, ids))


def send_for_delivery(ids: list[int]) -> None:
    """Queue delivery of committed rows, DELIVERY_CHUNK a task.

    Normally after the commit that wrote them (`enqueue_many`); a broker
    outage is logged and the sweep sends them once the broker is back.
    """
    start = 0
    try:
        # One producer (one broker connection) for every chunk: acquired per
        # task, a publish took 3 ms.
        with deliver_outgoing_emails.app.producer_or_acquire() as producer:
            for start in range(0, len(ids), DELIVERY_CHUNK):
                chunk = ids[start : start + DELIVERY_CHUNK]
                deliver_outgoing_emails.apply_async(
                    (chunk,),
                    producer=producer,
                    # What logs and monitors show, in place of Celery's
                    # repr of every id (a third of a publish).
                    argsrepr=f"([{chunk[0]}…{chunk[-1]}: {len(chunk)} rows],)",
                )
    except BrokerUnavailable:
        logger.warning(
            "Could not queue delivery of %d outbox rows from %s on; the sweep will send them.",
            len(ids) - start,
            ids[start],
            exc_info=True,
        )


def _deliver_after_commit(outgoing_email_id: int) -> None:
    def dispatch():
        try:
            deliver_outgoing_email.delay(outgoing_email_id)
        except BrokerUnavailable:
            # The change is committed and the row is safe: a broker outage must
            # not turn the request into an error. The sweep sends the row.
            logger.warning(
                "Could not queue delivery of outbox row %s; the sweep will send it.",
                outgoing_email_id,
                exc_info=True,
            )

    transaction.on_commit(dispatch)
