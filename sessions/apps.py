from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "sessions"
    # "sessions" is django.contrib.sessions' label; this app is "meetings".
    label = "meetings"
    verbose_name = "Meetings"
