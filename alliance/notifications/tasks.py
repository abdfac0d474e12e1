"""Celery tasks of the outbox (see outbox.py and delivery.py). Thin: ids in, delivery out.

Registered through CELERY_IMPORTS (autodiscovery finds only `<app>.tasks`).
Neither task retries itself: a row that must wait stays queued with its
`next_attempt_at` and the periodic sweep picks it up, so there are no long ETA tasks.
"""

from celery import shared_task

from alliance.notifications import delivery
from alliance.tenancy.tasks import TenantTask


@shared_task(name="notifications.deliver_outgoing_email")
def deliver_outgoing_email(outgoing_email_id: int) -> str:
    return delivery.deliver(outgoing_email_id).value


@shared_task(name="notifications.deliver_outgoing_emails")
def deliver_outgoing_emails(outgoing_email_ids: list[int]) -> dict[str, int]:
    """Deliver a chunk of bulk mail in turn: one broker message per chunk, not per row.

    Each row is claimed on its own, so a row another worker (or the sweep) took
    is skipped; rows a killed worker never reached stay queued for the sweep.
    """
    outcomes: dict[str, int] = {}
    for pk in outgoing_email_ids:
        outcome = delivery.deliver(pk).value
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    return delivery.sweep_outbox()


# Reminders (reminders.py): beat runs the fan-out; one tenant task per alliance.


@shared_task(name="notifications.dispatch_reminders")
def dispatch_reminders() -> int:
    """Fan out: one `dispatch_alliance_reminders` per alliance; returns how many."""
    from alliance.models import Alliance

    alliance_ids = list(Alliance.objects.order_by("pk").values_list("pk", flat=True))
    for alliance_id in alliance_ids:
        dispatch_alliance_reminders.delay(alliance_id)
    return len(alliance_ids)


@shared_task(name="notifications.dispatch_alliance_reminders", base=TenantTask)
def dispatch_alliance_reminders(alliance) -> int:
    # Imported here: reminders.py queues deliveries through this module's task.
    from alliance.notifications.reminders import reminders_dispatch

    return reminders_dispatch(alliance=alliance)


# Progress digests (digests.py): beat runs the fan-out hourly; one tenant task per alliance.


@shared_task(name="notifications.send_digests")
def send_digests() -> int:
    """Fan out: one `send_alliance_digests` per alliance; returns how many."""
    from alliance.models import Alliance

    alliance_ids = list(Alliance.objects.order_by("pk").values_list("pk", flat=True))
    for alliance_id in alliance_ids:
        send_alliance_digests.delay(alliance_id)
    return len(alliance_ids)


@shared_task(name="notifications.send_alliance_digests", base=TenantTask)
def send_alliance_digests(alliance) -> dict[str, int]:
    # Imported here: digests.py queues deliveries through this module's task.
    from django.utils import timezone

    from alliance.notifications.digests import send_alliance_digests as send

    result = send(alliance=alliance, now=timezone.now())
    return {"queued": result.queued, "skipped": result.skipped}
