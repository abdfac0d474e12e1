from django.apps import AppConfig


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = "Alliances"

    def ready(self):
        from . import audit, pagecache

        audit.connect_signals()
        pagecache.connect_signals()
