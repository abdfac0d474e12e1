from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

validate_hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as # followed by six hexadecimal digits, e.g. #1d4f91."
)


# The first URL segment is the alliance slug, so a slug must never shadow a
# site-wide route.
RESERVED_SLUGS = frozenset(
    {"accounts", "admin", "api", "healthz", "static", "media", "media-not-served", "u", "www"}
)


def validate_alliance_slug(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            "“%(value)s” is reserved by the portal; choose another.", params={"value": value}
        )
