"""The outbox: every email the portal sends is first a row here.

`enqueue` renders the message and creates its OutgoingEmail row inside the
caller's transaction, so the change and its mail commit together (or neither
does); after the commit a Celery task delivers it. A periodic sweep re-sends
rows left queued (broker down, worker killed), so nothing is silently lost.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string

from alliance.models import Alliance, OutgoingEmail


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
    row = OutgoingEmail(
        alliance=alliance,
        kind=kind,
        object_ref=object_ref(about),
        recipient=recipient.strip(),
        key=key,
        from_email=settings.DEFAULT_FROM_EMAIL,
        reply_to=single_line(reply_to),
        subject=subject,
        text_body=text,
        html_body=html,
        headers={name: single_line(value) for name, value in (headers or {}).items()},
        attachments=attachments or [],
    )
    try:
        # A savepoint: a duplicate must not break the caller's transaction.
        with transaction.atomic():
            row.save()
    except IntegrityError:
        if OutgoingEmail.objects.filter(
            kind=kind, object_ref=row.object_ref, recipient=row.recipient, key=key
        ).exists():
            return None
        raise
    from alliance.notifications.tasks import deliver_outgoing_email

    deliver_outgoing_email.delay_on_commit(row.pk)
    return row
