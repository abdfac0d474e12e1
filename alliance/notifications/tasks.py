"""Celery tasks of the outbox (see outbox.py and delivery.py). Thin: ids in, delivery out.

Registered through CELERY_IMPORTS (autodiscovery finds only `<app>.tasks`).
Neither task retries itself: a row that must wait stays queued with its
`next_attempt_at` and the periodic sweep picks it up, so there are no long ETA tasks.
"""

from celery import shared_task

from alliance.notifications import delivery


@shared_task(name="notifications.deliver_outgoing_email")
def deliver_outgoing_email(outgoing_email_id: int) -> str:
    return delivery.deliver(outgoing_email_id).value


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    return delivery.sweep_outbox()
