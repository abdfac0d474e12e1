from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import sessions, signals  # noqa: F401  (connect their handlers)
        from .services import staff_group_sync

        post_migrate.connect(staff_group_sync, sender=self)
