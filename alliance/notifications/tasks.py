"""Delivery of outbox rows (see outbox.py). Thin: load the id, call delivery."""

from celery import shared_task


@shared_task(name="notifications.deliver_outgoing_email")
def deliver_outgoing_email(outgoing_email_id: int) -> None:
    from alliance.notifications.delivery import deliver

    deliver(outgoing_email_id)
