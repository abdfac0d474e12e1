from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope

from alliance.models import Alliance
from alliance.notifications.digests import send_alliance_digests


class Command(BaseCommand):
    help = (
        "Queue the progress digests due now, as the hourly beat job does. With --now, this "
        "week's and month's digests whatever the alliance's day and hour. Idempotent: a member "
        "who has this period's digest is not sent another."
    )

    def add_arguments(self, parser):
        parser.add_argument("--alliance", metavar="SLUG", help="Only this alliance.")
        parser.add_argument(
            "--now",
            action="store_true",
            help="Send for the current week and month now, regardless of the scheduled day "
            "and hour.",
        )

    def handle(self, *args, alliance=None, now=False, **options):
        alliances = Alliance.objects.order_by("slug")
        if alliance:
            alliances = alliances.filter(slug=alliance)
            if not alliances.exists():
                raise CommandError(f"No alliance with the slug {alliance!r}.")
        queued = 0
        for each in alliances:
            # The service the beat job's tenant task calls, in the same scope.
            with scope(alliance=each):
                result = send_alliance_digests(alliance=each, now=timezone.now(), force=now)
            queued += result.queued
            self.stdout.write(
                f"{each.slug}: {result.queued} queued, {result.skipped} skipped (nothing new)"
            )
        self.stdout.write(self.style.SUCCESS(f"Queued {queued} digest(s)."))
