"""The portal's one mail path. Every email is HTML + plain text.

Until the outbox lands (notifications issue), a message is sent after the
transaction that caused it commits; a delivery failure is logged and reported
to the caller's `on_sent` only on success, so the caller can show "not sent"
and offer a resend instead of losing the message silently.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def _single_line(value: str) -> str:
    # Header injection: a CR or LF in a name must never start a new header.
    return " ".join(str(value).split())


def build_email(
    *, to: str, template: str, context: dict, reply_to: str | None = None
) -> EmailMultiAlternatives:
    """Render `<template>_subject.txt`, `<template>.txt` and `<template>.html`."""
    context = {
        "SITE_BASE_URL": settings.SITE_BASE_URL,
        "PORTAL_NAME": settings.PORTAL_NAME,
        **context,
    }
    subject = _single_line(render_to_string(f"{template}_subject.txt", context))
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def send_after_commit(message: EmailMultiAlternatives, *, on_sent: Callable[[], None]) -> None:
    def deliver():
        try:
            message.send()
        except Exception:
            logger.exception(
                "Could not send %r to %s; it can be resent.", message.subject, message.to
            )
            return
        on_sent()

    transaction.on_commit(deliver)
