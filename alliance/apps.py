from django.apps import AppConfig


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = "Alliances"

    def ready(self):
        from . import pagecache

        pagecache.connect_signals()
