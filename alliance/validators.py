from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

validate_hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as # followed by six hexadecimal digits, e.g. #1d4f91."
)


# The first URL segment is the alliance slug, so a slug must never shadow a
# site-wide route.
RESERVED_SLUGS = frozenset(
    {
        "accounts",
        "admin",
        "api",
        "calendar",
        "healthz",
        "invitations",
        "media",
        "media-not-served",
        "static",
        "u",
        "unsubscribe",
        "www",
    }
)


def validate_alliance_slug(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            "“%(value)s” is reserved by the portal; choose another.", params={"value": value}
        )


# Documents members download: office formats and PDF, nothing a browser would
# run. Size is checked here so the form says so instead of failing later.
DOCUMENT_EXTENSIONS = frozenset(
    {"pdf", "doc", "docx", "ppt", "pptx", "xls", "xlsx", "csv", "txt", "odt", "odp", "ods"}
)
DOCUMENT_MAX_BYTES = 25 * 1024 * 1024


def validate_document(file) -> None:
    name = getattr(file, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in DOCUMENT_EXTENSIONS:
        raise ValidationError(
            "Upload a PDF or an office document (%(allowed)s).",
            params={"allowed": ", ".join(sorted(DOCUMENT_EXTENSIONS))},
        )
    if file.size is not None and file.size > DOCUMENT_MAX_BYTES:
        raise ValidationError(
            "This file is %(size)s MB; the limit is %(limit)s MB.",
            params={
                "size": round(file.size / 1024 / 1024, 1),
                "limit": DOCUMENT_MAX_BYTES // 1024 // 1024,
            },
        )


# Logos and photos: shown inline in pages and mail, so small, and raster only
# (ImageField already refuses what Pillow cannot open, SVG included).
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp"})
IMAGE_MAX_BYTES = 2 * 1024 * 1024


def validate_image(file) -> None:
    name = getattr(file, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in IMAGE_EXTENSIONS:
        raise ValidationError(
            "Upload a PNG, JPEG, GIF or WebP image.",
        )
    if file.size is not None and file.size > IMAGE_MAX_BYTES:
        raise ValidationError(
            "This image is %(size)s MB; the limit is %(limit)s MB.",
            params={
                "size": round(file.size / 1024 / 1024, 1),
                "limit": IMAGE_MAX_BYTES // 1024 // 1024,
            },
        )
