"""Sending one outbox row over SMTP (the first version; retries come next)."""

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_scopes import scopes_disabled

from alliance.models import OutgoingEmail


def deliver(outgoing_email_id: int) -> None:
    # Reviewed unscoped site (docs/tenancy.md): a row id from our own queue;
    # account emails have no alliance to scope by.
    with scopes_disabled():
        row = OutgoingEmail.objects.filter(
            pk=outgoing_email_id, status=OutgoingEmail.Status.QUEUED
        ).first()
        if row is None:
            return
        message = EmailMultiAlternatives(
            subject=row.subject,
            body=row.text_body,
            from_email=row.from_email,
            to=[row.recipient],
            reply_to=[row.reply_to] if row.reply_to else None,
            headers=row.headers,
        )
        message.attach_alternative(row.html_body, "text/html")
        for attachment in row.attachments:
            message.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
        message.send()
        row.status, row.sent_at, row.attempts = OutgoingEmail.Status.SENT, timezone.now(), 1
        row.save(update_fields=["status", "sent_at", "attempts", "updated_at"])
