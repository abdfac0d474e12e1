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


def _check_upload(file, *, extensions, max_bytes: int, wrong_type: str, what: str) -> None:
    """The name's extension among `extensions`, and at most `max_bytes`."""
    name = getattr(file, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in extensions:
        raise ValidationError(wrong_type, params={"allowed": ", ".join(sorted(extensions))})
    if file.size is not None and file.size > max_bytes:
        raise ValidationError(
            "This %(what)s is %(size)s MB; the limit is %(limit)s MB.",
            params={
                "what": what,
                "size": round(file.size / 1024 / 1024, 1),
                "limit": max_bytes // 1024 // 1024,
            },
        )


def validate_document(file) -> None:
    _check_upload(
        file,
        extensions=DOCUMENT_EXTENSIONS,
        max_bytes=DOCUMENT_MAX_BYTES,
        wrong_type="Upload a PDF or an office document (%(allowed)s).",
        what="file",
    )


# Logos and photos: shown inline in pages and mail, so small, and raster only
# (ImageField already refuses what Pillow cannot open, SVG included).
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp"})
IMAGE_MAX_BYTES = 2 * 1024 * 1024


def validate_image(file) -> None:
    _check_upload(
        file,
        extensions=IMAGE_EXTENSIONS,
        max_bytes=IMAGE_MAX_BYTES,
        wrong_type="Upload a PNG, JPEG, GIF or WebP image.",
        what="image",
    )
