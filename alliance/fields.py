import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

TIME_ZONES = frozenset(zoneinfo.available_timezones())
TIME_ZONE_CHOICES = sorted((zone, zone.replace("_", " ")) for zone in TIME_ZONES)


def validate_time_zone(value: str) -> None:
    if value not in TIME_ZONES:
        raise ValidationError(
            "“%(value)s” is not a time zone name; use an IANA name such as America/New_York.",
            params={"value": value},
        )


class TimeZoneField(models.CharField):
    """An IANA time zone name, offered as a choice list in forms.

    The ~600 choices come from the system's tz database, which changes with
    it, so they are left out of migrations.
    """

    default_validators = [validate_time_zone]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs["choices"] = TIME_ZONE_CHOICES
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("choices", None)
        return name, path, args, kwargs
