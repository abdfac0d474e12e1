from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from alliance.models import Alliance
from alliance.notifications.reminders import reminders_dispatch_by_kind


class Command(BaseCommand):
    help = (
        "Queue the meeting and roundtable reminders and RSVP nudges that are due now, as the "
        "beat job does every 5 minutes. Idempotent: a second run queues nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--alliance", metavar="SLUG", help="Only this alliance.")

    def handle(self, *args, alliance=None, **options):
        alliances = Alliance.objects.order_by("slug")
        if alliance:
            alliances = alliances.filter(slug=alliance)
            if not alliances.exists():
                raise CommandError(f"No alliance with the slug {alliance!r}.")
        total = 0
        for each in alliances:
            # The same service the beat job's tenant task calls, in the same scope.
            with scope(alliance=each):
                counts = reminders_dispatch_by_kind(alliance=each)
            total += sum(counts.values())
            described = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
            self.stdout.write(f"{each.slug}: {described or 'nothing due'}")
        self.stdout.write(self.style.SUCCESS(f"Queued {total} message(s)."))
