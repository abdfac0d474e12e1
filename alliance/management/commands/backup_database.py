from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from alliance.backups import BackupError, Database, backup


class Command(BaseCommand):
    help = (
        "Back up the whole database into var/backups/ (PostgreSQL: pg_dump -Fc; SQLite: a "
        "consistent copy), named with the UTC time. `make backup` runs it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", type=Path, default=settings.VAR_DIR / "backups")
        parser.add_argument("--database-url", help="Another database than the site's.")

    def handle(self, *args, output_dir, database_url, **options):
        try:
            path = backup(
                database=Database.from_url(database_url), directory=output_dir, now=timezone.now()
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        size = path.stat().st_size
        self.stdout.write(f"Backed up to {path} ({size:,} bytes).")
