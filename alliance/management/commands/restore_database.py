from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from alliance.backups import BackupError, Database, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_database into an empty database (the site's, or "
        "--database-url), in one transaction. `make restore FILE=…` runs it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--database-url", help="Another database than the site's.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Drop what the database holds first (it must otherwise be empty).",
        )

    def handle(self, *args, file, database_url, replace, **options):
        database = Database.from_url(database_url)
        try:
            restore(database=database, path=file, replace=replace)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {file} into {database.name}.")
        if database_url is None:
            # A backup from an older release needs its migrations run.
            try:
                call_command("migrate", "--check", verbosity=0)
            except SystemExit:
                self.stdout.write("Migrations are pending: run `manage.py migrate`.")
