"""The MIME bytes of an outbox message, written directly (docs/email-and-tasks.md).

Django builds a message as a tree of `email` objects and flattens it with the
standard library's generator: about 2 ms a message, most of it folding headers,
searching the bodies for a boundary and copying them line by line. A digest
run builds 10,000 of them. `OutboxEmail.message()` returns the same structure
written straight to bytes (well under 0.1 ms):

    multipart/mixed                     only with attachments
      multipart/alternative
        text/plain
        text/html                       or multipart/related: the HTML and
        image/… (Content-ID)            the images it shows by cid: (logo)
      text/calendar, application/…      attachments

Headers go through Django's own checks (`forbid_multi_line_headers`: no CR or
LF, RFC 2047 for non-ASCII) and are folded at spaces past 78 characters.
Text parts are 8bit, or quoted-printable when a line is longer than SMTP
allows, as Django chooses; other attachments are base64. The result parses to
what Django's would (tests/test_mime.py compares them part by part).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from email import message_from_bytes
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.utils import encode_rfc2231, formatdate, make_msgid
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    SafeMIMEMultipart,
    forbid_multi_line_headers,
)
from django.core.mail.utils import DNS_NAME

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEADER_WIDTH = 78
_BASE64_LINE = 76


class OutboxEmail(EmailMultiAlternatives):
    """Text + HTML (+ images the HTML shows by `cid:`, + attachments), built fast.

    `inline_images`: [{"filename", "content_base64", "mimetype", "cid"}], the
    outbox's own form. Anything this writer does not know (a MIMEBase attached,
    a second alternative, a message/rfc822 part) goes through Django instead.
    """

    def __init__(self, *args, inline_images=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_images = list(inline_images)

    def message(self):
        if not self._simple():
            return super().message()
        return PrebuiltMessage(self._parts)

    def _simple(self) -> bool:
        return (
            self.content_subtype == "plain"
            and len(self.alternatives) == 1
            and self.alternatives[0][1] == "text/html"
            and not any(
                isinstance(a, MIMEBase) or a[2] is None or a[2].startswith("message/")
                for a in self.attachments
            )
        )

    def _parts(self, linesep: str) -> bytes:
        encoding = self.encoding or settings.DEFAULT_CHARSET
        text = _text_part("plain", self.body, encoding, linesep)
        html = _text_part("html", self.alternatives[0][0], encoding, linesep)
        if self.inline_images:
            html = _multipart(
                "related", [html, *(_image_part(i, linesep) for i in self.inline_images)], linesep
            )
        body = _multipart("alternative", [text, html], linesep)
        if self.attachments:
            attachments = [
                _attachment_part(*a, encoding=encoding, linesep=linesep) for a in self.attachments
            ]
            body = _multipart("mixed", [body, *attachments], linesep)
        return self._headers(linesep) + body

    def _headers(self, linesep: str) -> bytes:
        extra = self.extra_headers
        names = {name.lower() for name in extra}
        headers = [
            ("Subject", self.subject),
            ("From", extra.get("From", self.from_email)),
            ("To", extra.get("To", ", ".join(str(v) for v in self.to))),
            ("Cc", extra.get("Cc", ", ".join(str(v) for v in self.cc))),
            ("Reply-To", extra.get("Reply-To", ", ".join(str(v) for v in self.reply_to))),
        ]
        if "date" not in names:
            headers.append(("Date", _date(int(time.time()), settings.EMAIL_USE_LOCALTIME)))
        if "message-id" not in names:
            headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
        headers += [
            (name, value)
            for name, value in extra.items()
            if name.lower() not in {"from", "to", "cc", "reply-to"}
        ]
        encoding = self.encoding or settings.DEFAULT_CHARSET
        # MIME-Version and Content-Type: the top-level part's own head, after these.
        lines = []
        for name, value in headers:
            if value == "" and name in {"To", "Cc", "Reply-To"}:
                continue
            value = str(value)
            if not value.isascii() or "\n" in value or "\r" in value:
                # Django's checks: a line break is refused, the rest RFC 2047-encoded.
                name, value = forbid_multi_line_headers(name, value, encoding)
            lines.append(_fold(f"{name}: {value}", linesep))
        return (linesep.join(lines) + linesep).encode("ascii")

    def _create_alternatives(self, msg):
        """Django's own build (`EmailMultiAlternatives.message(self)`, and the
        fallback): the HTML and its images in one multipart/related part."""
        msg = super()._create_alternatives(msg)
        if not self.inline_images or not msg.is_multipart():
            return msg
        parts = []
        for part in msg.get_payload():
            if part.get_content_type() == "text/html":
                related = SafeMIMEMultipart(
                    _subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET
                )
                related.attach(part)
                for image in self.inline_images:
                    related.attach(_mime_image(image))
                part = related
            parts.append(part)
        msg.set_payload(parts)
        return msg


def _mime_image(image: dict) -> MIMEImage:
    subtype = (image.get("mimetype") or "image/png").partition("/")[2] or "png"
    mime = MIMEImage(base64.b64decode(image["content_base64"]), _subtype=subtype)
    mime.add_header("Content-ID", f"<{image['cid']}>")
    mime.add_header("Content-Disposition", "inline", filename=image["filename"])
    return mime


class PrebuiltMessage:
    """What `EmailMessage.message()` returns, for the backends: `as_bytes()` and
    `as_string()` write the bytes directly; anything else (a test reading a
    header) is asked of the parsed message."""

    def __init__(self, write):
        self._write = write
        self._parsed = None

    def as_bytes(self, unixfrom=False, linesep="\n"):
        return self._write(linesep)

    def as_string(self, unixfrom=False, linesep="\n"):
        return self.as_bytes(linesep=linesep).decode("utf-8", "surrogateescape")

    def __bytes__(self):
        return self.as_bytes()

    def _message(self):
        if self._parsed is None:
            self._parsed = message_from_bytes(self.as_bytes())
        return self._parsed

    def __getitem__(self, name):
        return self._message()[name]

    def __contains__(self, name):
        return name in self._message()

    def __getattr__(self, name):
        return getattr(self._message(), name)


def _fold(line: str, linesep: str) -> str:
    """A header line folded at spaces to lines of at most 78 characters where it
    can be (a long word stays whole); an already folded one gets `linesep`."""
    if "\n" in line:
        return _LINE_BREAK.sub(linesep, line)
    if len(line) <= _HEADER_WIDTH:
        return line
    out, current = [], ""
    for word in line.split(" "):
        # A continuation line is never all blanks (RFC 5322 3.2.2).
        if current.strip() and word and len(current) + 1 + len(word) > _HEADER_WIDTH:
            out.append(current)
            current = " " + word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return linesep.join(out)


def _multipart(subtype: str, parts: list[bytes], linesep: str) -> bytes:
    boundary = f"==============={secrets.token_hex(12)}=="
    sep = linesep.encode()
    head = (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{linesep}'
        f"MIME-Version: 1.0{linesep}{linesep}"
    ).encode()
    delimiter = sep + f"--{boundary}".encode() + sep
    return (
        head
        + f"--{boundary}".encode()
        + sep
        + delimiter.join(parts)
        + sep
        + f"--{boundary}--".encode()
        + sep
    )


def _text_part(subtype: str, text: str, encoding: str, linesep: str, extra: str = "") -> bytes:
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)
    # Encoded once; each line's length in bytes found on the whole once the
    # line ends are "\n" (a regular expression, then a loop over the lines,
    # was a tenth of a digest's cost on its 13 KB).
    raw = text.encode(encoding, "surrogateescape")
    if max(map(len, raw.split(b"\n"))) > RFC5322_EMAIL_LINE_LENGTH_LIMIT:
        payload = binascii.b2a_qp(raw, istext=True).decode("ascii")
        body = _LINE_BREAK.sub(linesep, payload).encode("ascii")
        transfer = "quoted-printable"
    else:
        body = raw.replace(b"\n", linesep.encode("ascii")) if linesep != "\n" else raw
        transfer = "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="{encoding}"{linesep}'
        f"MIME-Version: 1.0{linesep}"
        f"Content-Transfer-Encoding: {transfer}{linesep}{extra}{linesep}"
    )
    return head.encode("ascii") + body


@lru_cache(maxsize=2)
def _date(second: int, localtime: bool) -> str:
    # What formatdate() gives now (it drops the fraction of a second), made
    # once a second rather than once a message.
    return formatdate(second, localtime=localtime)


@lru_cache(maxsize=32)
def _wrapped_base64(content_base64: str, linesep: str) -> str:
    # Stored once per alliance (its logo) and sent with every message: wrapped once.
    flat = "".join(content_base64.split())
    return linesep.join(flat[i : i + _BASE64_LINE] for i in range(0, len(flat), _BASE64_LINE))


def _image_part(image: dict, linesep: str) -> bytes:
    mimetype = _header_safe(image.get("mimetype") or "image/png")
    if not mimetype.startswith("image/"):
        mimetype = "image/png"
    head = (
        f"Content-Type: {mimetype}{linesep}"
        f"MIME-Version: 1.0{linesep}"
        f"Content-Transfer-Encoding: base64{linesep}"
        f"Content-ID: <{_header_safe(image['cid'])}>{linesep}"
        f"Content-Disposition: {_disposition('inline', image['filename'])}{linesep}{linesep}"
    )
    return (head + _wrapped_base64(image["content_base64"], linesep) + linesep).encode("ascii")


def _attachment_part(filename, content, mimetype, *, encoding: str, linesep: str) -> bytes:
    disposition = (
        f"Content-Disposition: {_disposition('attachment', filename)}{linesep}" if filename else ""
    )
    if mimetype.startswith("text/") and isinstance(content, str):
        subtype = _header_safe(mimetype.partition("/")[2])
        return _text_part(subtype, content, encoding, linesep, disposition)
    if isinstance(content, str):
        content = content.encode(encoding)
    flat = base64.b64encode(content).decode("ascii")
    body = linesep.join(flat[i : i + _BASE64_LINE] for i in range(0, len(flat), _BASE64_LINE))
    head = (
        f"Content-Type: {_header_safe(mimetype)}{linesep}"
        f"MIME-Version: 1.0{linesep}"
        f"Content-Transfer-Encoding: base64{linesep}{disposition}{linesep}"
    )
    return (head + body + linesep).encode("ascii")


def _disposition(kind: str, filename: str) -> str:
    filename = _header_safe(filename)
    if filename.isascii() and '"' not in filename and "\\" not in filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename*={encode_rfc2231(filename, 'utf-8', '')}"


def _header_safe(value: str) -> str:
    # Names and ids come from rows staff edit: never a line break in a header.
    return " ".join(str(value).split())
