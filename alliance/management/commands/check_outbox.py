from datetime import timedelta

from django.core.management.base import BaseCommand

from alliance.notifications.delivery import outbox_health


class Command(BaseCommand):
    help = (
        "For monitoring: exit 1 when mail is stuck (queued or sending for longer than "
        "--waiting-minutes, or failed within --failed-hours), 0 otherwise. One line of figures."
    )

    def add_arguments(self, parser):
        # The sweep retries every minute with backoff up to an hour: half an hour
        # of waiting means the workers, the broker or SMTP are not doing their job.
        parser.add_argument("--waiting-minutes", type=int, default=30)
        parser.add_argument("--failed-hours", type=int, default=24)

    def handle(self, *args, waiting_minutes, failed_hours, **options):
        health = outbox_health(
            waiting_longer_than=timedelta(minutes=waiting_minutes),
            failed_within=timedelta(hours=failed_hours),
        )
        oldest = health.oldest_waiting_minutes
        figures = (
            f"{health.waiting_too_long} waiting over {waiting_minutes} min, "
            f"{health.failed} failed in {failed_hours} h, oldest waiting: "
            + ("none" if oldest is None else f"{oldest} min")
        )
        if health.stuck:
            self.stderr.write(f"STUCK: {figures}. See the outbox in the staff admin.")
            raise SystemExit(1)
        self.stdout.write(f"ok: {figures}")
