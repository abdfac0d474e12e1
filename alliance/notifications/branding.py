"""The alliance's look in its emails: the logo as an inline image part."""

import base64
import io
import logging

from alliance.models import Alliance

logger = logging.getLogger(__name__)

LOGO_CID = "alliance-logo"
# Shown 40 px high (templates/email/base.html); twice that stays sharp on
# high-density screens, and keeps the copy stored with every row small.
LOGO_BOX = (480, 80)
LOGO_MAX_BYTES = 48 * 1024


def logo_attachment(*, alliance: Alliance) -> dict | None:
    """The alliance's logo as an inline image part, scaled to fit the header.

    None (the header shows the name alone) when there is no logo or it cannot
    be read as an image: a broken logo must not stop any mail.
    """
    if not alliance.logo:
        return None
    try:
        from PIL import Image

        with alliance.logo.open("rb") as file, Image.open(file) as image:
            image.thumbnail(LOGO_BOX)
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
    except Exception:
        logger.warning("The logo of alliance %s could not be read.", alliance.pk, exc_info=True)
        return None
    if buffer.tell() > LOGO_MAX_BYTES:
        logger.warning("The logo of alliance %s is too large for email.", alliance.pk)
        return None
    return {
        "filename": "logo.png",
        "content_base64": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "mimetype": "image/png",
        "cid": LOGO_CID,
    }
