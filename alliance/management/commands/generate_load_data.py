import secrets
import time

from django.core.management.base import BaseCommand, CommandError

from alliance import loaddata


class Command(BaseCommand):
    help = (
        "Generate load data for performance work: alliances load-01, load-02… with "
        "organizations, members, meetings, roundtables, workgroups and readings. "
        "S: 2 alliances, 60 organizations, 1,440 reading slots; M: 4 alliances, 1,000 "
        "organizations, ~460,000 readings; L: 20 alliances, 10,000 organizations, "
        "~770,000 readings. Refuses to run when load data exists, unless --flush."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(loaddata.SCALES), required=True)
        parser.add_argument(
            "--seed", type=int, default=1, help="Same seed, same rows (default: 1)."
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="First delete previous load data (load-NN alliances and their users) only.",
        )
        parser.add_argument(
            "--password", help="Password for every load user (default: a new random one)."
        )

    def handle(self, *args, scale, seed, flush, password=None, **options):
        password = password or secrets.token_urlsafe(12)
        timer = loaddata.PhaseTimer()
        started = time.perf_counter()
        try:
            alliances = loaddata.generate(
                scale=loaddata.SCALES[scale],
                seed=seed,
                password=password,
                flush=flush,
                timer=timer,
                log=self.stdout.write if options["verbosity"] > 0 else None,
            )
        except loaddata.LoadDataPresent as exc:
            raise CommandError(str(exc)) from exc
        total = time.perf_counter() - started
        with timer.phase("counts"):
            counts = loaddata.load_data_counts()

        self.stdout.write("\nTime per phase:")
        for name, seconds in timer.seconds.items():
            self.stdout.write(f"  {name:<26}{seconds:8.2f} s")
        self.stdout.write(f"  {'total':<26}{total:8.2f} s")
        self.stdout.write("\nRows:")
        for label, count in counts.items():
            self.stdout.write(f"  {label:<26}{count:>10,}")
        slots = loaddata.SCALES[scale].reading_slots
        self.stdout.write(
            f"  (readings: {counts['readings'] / slots:.1%} of {slots:,} slots; the rest are "
            "missing periods)"
        )
        first = alliances[0].slug
        self.stdout.write(
            self.style.SUCCESS(
                f"\nLoad data ({scale}) generated. Log in at /accounts/login/ as "
                f"ceo.0001@{first}.example (a CEO) or staff.01@{first}.example (alliance "
                f"staff); the alliance is at /{first}/."
            )
        )
        self.stdout.write(f"Password for every load user: {password}")
