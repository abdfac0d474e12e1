"""The outbox's own MIME writer (alliance/notifications/mime.py) against Django's.

Every message is built both ways and parsed back: the same headers (decoded),
the same tree of parts, the same decoded bodies, file names and Content-IDs.
"""

import base64
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.core.mail import BadHeaderError, EmailMultiAlternatives

from alliance.notifications.mime import OutboxEmail, PrebuiltMessage

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3).decode()
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Café roundtable\r\nEND:VCALENDAR\r\n"


def build(**overrides) -> OutboxEmail:
    fields = {
        "subject": "Alpha progress digest, week of 16 November 2026",
        "body": "Hello Ada,\n\nYour digest.\n",
        "from_email": "Alpha Alliance <noreply@portal.example.org>",
        "to": ["ada@example.org"],
        "reply_to": ["Staff <staff@example.org>"],
        "headers": {
            "Message-ID": "<outbox.1.20261122@portal.example.org>",
            "List-Unsubscribe": "<https://portal.example.org/unsubscribe/"
            + "x" * 120
            + "/>, <mailto:unsubscribe@portal.example.org?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    html = overrides.pop("html", "<p>Hello Ada,</p>\n<p>Your digest.</p>\n")
    attachments = overrides.pop("attachments", [])
    message = OutboxEmail(**(fields | overrides))
    message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    return message


def parsed_both_ways(message: OutboxEmail):
    fast = message.message()
    assert isinstance(fast, PrebuiltMessage)
    django = EmailMultiAlternatives.message(message)
    return (
        message_from_bytes(fast.as_bytes(linesep="\r\n"), policy=policy.compat32),
        message_from_bytes(django.as_bytes(linesep="\r\n"), policy=policy.compat32),
        fast.as_bytes(linesep="\r\n"),
    )


def headers(message) -> dict:
    skip = {"content-type", "date"}
    return {
        # Unfolded (RFC 5322 2.2.3): the two writers fold at different spaces.
        name.lower(): str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", value))))
        for name, value in message.items()
        if name.lower() not in skip
    }


def parts(message) -> list[tuple]:
    return [
        (
            part.get_content_type(),
            part.get_content_charset(),
            part.get_filename(),
            part["Content-ID"],
            part.get_content_disposition(),
            None if part.is_multipart() else part.get_payload(decode=True),
        )
        for part in message.walk()
    ]


CASES = {
    "plain ASCII": {},
    "non-ASCII subject and names": {
        "subject": "Réunion du conseil — «quality» update, 18 mars",
        "from_email": "Alliance Santé Québec <noreply@portal.example.org>",
        "to": ["Zoë Ångström <zoe@example.org>"],
        "reply_to": ["Équipe <staff@example.org>"],
    },
    "a long subject": {"subject": " ".join(["Alliance progress digest"] * 8)},
    "a long header ending in spaces": {
        "headers": {"Message-ID": "<x@portal.example.org>", "X-Note": "word " * 30 + "   "}
    },
    "a line longer than SMTP allows (quoted-printable)": {
        "body": "Start\n" + "word " * 300 + "\nend — fin\n",
        "html": "<p>" + "é" * 400 + "</p>",
    },
    "Windows line endings": {"body": "one\r\ntwo\r\n\r\nthree\r\n", "html": "<p>a</p>\r\n<p>b</p>"},
    "a calendar and a binary attachment": {
        "attachments": [
            ("meeting.ics", ICS, "text/calendar"),
            ("slides.pdf", b"%PDF-1.4\n\x00\xff" * 50, "application/pdf"),
            ("Résumé de la réunion.txt", "Notes\n", "text/plain"),
        ]
    },
}


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_the_fast_build_parses_to_what_django_builds(overrides):
    fast, django, raw = parsed_both_ways(build(**overrides))
    assert headers(fast) == headers(django)
    assert parts(fast) == parts(django)
    assert fast.get_content_type() == django.get_content_type()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    top = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert sum(line.startswith(b"MIME-Version:") for line in top) == 1
    assert not [line for line in top if line.startswith((b" ", b"\t")) and not line.strip()]
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert fast["Date"]


def test_inline_images_go_with_the_html_in_a_related_part():
    message = build(
        html='<img src="cid:alliance-logo"><p>Hi</p>',
        inline_images=[
            {
                "filename": "logo.png",
                "content_base64": PNG,
                "mimetype": "image/png",
                "cid": "alliance-logo",
            }
        ],
        attachments=[("meeting.ics", ICS, "text/calendar")],
    )
    fast, django, _ = parsed_both_ways(message)
    assert parts(fast) == parts(django)
    types = [part.get_content_type() for part in fast.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "text/calendar",
    ]
    image = next(part for part in fast.walk() if part.get_content_type() == "image/png")
    assert image.get_payload(decode=True) == base64.b64decode(PNG)


@pytest.mark.parametrize("header", ["subject", "to", "from_email"])
def test_a_line_break_in_a_header_is_refused(header):
    value = "Evil\r\nBcc: victim@example.org"
    overrides = {header: [value] if header == "to" else value}
    with pytest.raises(BadHeaderError):
        build(**overrides).message().as_bytes()


def test_a_line_break_in_an_extra_header_is_refused():
    message = build(headers={"X-Note": "a\nBcc: victim@example.org"})
    with pytest.raises(BadHeaderError):
        message.message().as_bytes()


def test_unusual_messages_are_built_by_django():
    message = build()
    message.attach_alternative("a second alternative", "text/x-other")
    assert not isinstance(message.message(), PrebuiltMessage)
    assert message.message().get_content_type() == "multipart/alternative"


def test_the_backends_send_it(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert build().send() == 1
    (sent,) = mail.outbox
    assert sent.message()["To"] == "ada@example.org"
    assert "multipart/alternative" in sent.message().as_string()
