"""What an outbox row sends: its own parts, or a shared body with its fills.

Bulk mail of one shape (a meeting's reminder to members of one zone and role)
is rendered once, with stand-ins where each recipient's name and unsubscribe
link go, and stored once (SharedEmailBody); each row keeps only its fills.
Delivery, the admin and the tests read a row through `content_of`.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import escape

from alliance.models import OutgoingEmail


def stand_in(name: str) -> str:
    """What a shared body holds where a recipient's `fills[name]` goes.

    Private-use characters: nothing a member writes is expected to hold them,
    HTML escaping leaves them alone, and a render that finds one anyway is
    not shared (see `is_shareable`).
    """
    return f"\ue000{name}\ue000"


def is_shareable(*parts: str, names: tuple[str, ...]) -> bool:
    """Whether these rendered parts hold no private-use mark but the stand-ins of `names`."""
    for part in parts:
        for name in names:
            part = part.replace(stand_in(name), "")
        if "\ue000" in part:
            return False
    return True


def fill_in(text: str, fills: dict[str, str], *, html: bool) -> str:
    """`text` with each stand-in replaced by its fill, escaped in HTML."""
    for name, value in fills.items():
        text = text.replace(stand_in(name), escape(value) if html else value)
    return text


# The parts bulk mail puts into the frame, and its unsubscribe link.
FRAME_PARTS = ("title", "preheader", "content", "unsubscribe")
_FRAME_MARK = re.compile(f"\ue000({'|'.join(FRAME_PARTS)})\ue000")


def render_frame(context: dict) -> str:
    """notifications/email/frame.html (email/base.html) with the stand-in of
    each of FRAME_PARTS where that part goes: rendered once per run of bulk
    mail, and its parts put in per message (`fill_frame`)."""
    return render_to_string(
        "notifications/email/frame.html",
        {
            "SITE_BASE_URL": settings.SITE_BASE_URL,
            "PORTAL_NAME": settings.PORTAL_NAME,
            "title": stand_in("title"),
            "preheader": stand_in("preheader"),
            "content": stand_in("content"),
            "unsubscribe_url": stand_in("unsubscribe"),
            **context,
        },
    )


def fill_frame(frame: str, parts: dict[str, str]) -> str:
    """`frame` with the given parts (HTML, escaped already) put in, in one pass
    over the frame alone: nothing a member wrote is searched for stand-ins. A
    part not given keeps its stand-in (the unsubscribe link of a shared body)."""
    return _FRAME_MARK.sub(lambda mark: parts.get(mark[1], mark[0]), frame)


@dataclass(frozen=True)
class Content:
    """The parts a row sends, whether its own or shared."""

    text: str
    html: str
    attachments: list[dict]


def content_of(row: OutgoingEmail) -> Content:
    """What `row` sends: its own parts, or its shared body with its fills put in."""
    if row.shared_body_id is None:
        return Content(text=row.text_body, html=row.html_body, attachments=row.attachments)
    body = row.shared_body
    return Content(
        text=fill_in(body.text_body, row.fills, html=False),
        html=fill_in(body.html_body, row.fills, html=True),
        attachments=[*body.attachments, *row.attachments],
    )
