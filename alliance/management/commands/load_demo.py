import importlib
import secrets
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from alliance import demo
from alliance.tenancy.history import history_paused


class Command(BaseCommand):
    help = "Load (or refresh) the two reference alliances as demo data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="Password for every demo login (default: a new random one, printed)."
        )
        parser.add_argument(
            "--logins-tsv", type=Path, help="Write email, alliance slug, role, is_staff per login."
        )

    def handle(self, *args, password=None, logins_tsv=None, **options):
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        # Demo rows are no one's change: they start without history rows, and a
        # reload (which re-saves every row) adds none.
        with transaction.atomic(), history_paused():
            alliances = demo.load_core(password=password)
            for app_config in apps.get_app_configs():
                loader = _app_demo_module(app_config)
                if loader is not None:
                    loader.load(alliances)
            # Documents and the collective voice cite the apps' people and workgroups.
            demo.load_content(alliances)
        logins = demo.demo_logins()
        if logins_tsv:
            logins_tsv.parent.mkdir(parents=True, exist_ok=True)
            logins_tsv.write_text("".join(f"{e}\t{s}\t{r}\t{st}\n" for e, s, r, st in logins))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {', '.join(a.name for a in alliances.values())}."
            )
        )
        if generated:
            self.stdout.write(f"Password for every demo login: {password}")


def _app_demo_module(app_config):
    # Only the project's own apps (top-level folders of the repository).
    if app_config.name == "alliance" or Path(app_config.path).parent != settings.BASE_DIR:
        return None
    try:
        return importlib.import_module(f"{app_config.name}.demo")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app_config.name}.demo":
            raise
        return None
