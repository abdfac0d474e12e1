from django.apps import AppConfig


class RoundtablesConfig(AppConfig):
    name = "roundtables"
    verbose_name = "Roundtables"
