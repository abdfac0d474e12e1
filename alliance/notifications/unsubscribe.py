"""Signed unsubscribe tokens and the RFC 8058 headers every bulk email carries.

A token names one membership, its alliance and what to stop ("digest",
"reminders"); it is signed (no expiry: an old email's link keeps working) and
the lookup runs inside the signed alliance's scope, so a token can only ever
change its own member in its own alliance.

Bulk mail is every kind in BULK_KINDS: each such outbox row must carry
`bulk_headers(...)`, and `bulk_header_problems(rows)` says which do not.
"""

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core import signing
from django.urls import Resolver404, get_script_prefix, get_urlconf, resolve, reverse

from alliance.tenancy.history import bulk_update_recorded
from members.models import DigestPreference, Membership

SALT = "notifications.unsubscribe"
WHAT = {
    "digest": "progress digests",
    "reminders": "meeting and roundtable reminders",
}
ONE_CLICK = "List-Unsubscribe=One-Click"

#: What the unsubscribe link of each bulk kind stops. An RSVP nudge is a
#: reminder to answer: the "reminders" switch covers it. Change notices,
#: account emails and invitations are not bulk: they always go.
WHAT_FOR_KIND: dict[str, str] = {
    "digest": "digest",
    "meeting_reminder": "reminders",
    "roundtable_reminder": "reminders",
    "rsvp_nudge": "reminders",
}
#: The outbox kinds that are bulk mail: each row carries `bulk_headers(...)`.
BULK_KINDS = frozenset(WHAT_FOR_KIND)


def token_for(membership: Membership, what: str) -> str:
    if what not in WHAT:
        raise ValueError(f"Nothing to unsubscribe from called {what!r}.")
    return _signer(settings.SECRET_KEY).token(
        membership.pk, membership.alliance_id, what, timestamp=_timestamp()
    )


def _timestamp() -> str:
    # TimestampSigner's: whole seconds in base 62.
    return signing.b62_encode(int(time.time()))


class _TokenSigner:
    """The token `signing.dumps(payload, salt=SALT)` makes, at a fifth of its cost.

    A reminder sweep or a digest run signs thousands of tokens: Django derives
    the HMAC key (a SHA-256 of salt and secret) and serializes the payload
    through three layers for each. Here the key is derived once per secret and
    the payload, two ids and a word of WHAT, is written as the compact JSON
    `dumps` writes. zlib (dumps' `compress`) never shortens a payload this
    short for real ids, and `signing.loads` reads either form; a test holds
    the two to the same bytes.
    """

    def __init__(self, secret: str):
        self._key = hashlib.sha256(f"{SALT}signer{secret}".encode()).digest()

    def token(self, membership_id: int, alliance_id: int, what: str, *, timestamp: str) -> str:
        payload = f'{{"m":{int(membership_id)},"a":{int(alliance_id)},"w":"{what}"}}'
        value = f"{signing.b64_encode(payload.encode()).decode()}:{timestamp}"
        signature = hmac.digest(self._key, value.encode(), "sha256")
        return f"{value}:{signing.b64_encode(signature).decode()}"


@lru_cache(maxsize=2)
def _signer(secret: str) -> _TokenSigner:
    return _TokenSigner(secret)


def unsubscribe_url(membership: Membership, what: str) -> str:
    return _link(token_for(membership, what))


_TOKEN_MARK = "TOKEN"  # noqa: S105  (a stand-in, not a secret)


def _link(token: str) -> str:
    """The unsubscribe page's absolute URL for `token`."""
    prefix, suffix = _current_link_parts()
    return prefix + token + suffix


def _current_link_parts() -> tuple[str, str]:
    return _link_parts(
        settings.SITE_BASE_URL, settings.ROOT_URLCONF, get_urlconf(), get_script_prefix()
    )


@lru_cache(maxsize=8)
def _link_parts(base: str, *urlconf) -> tuple[str, str]:
    # Reversed once per URL configuration, not once per recipient (a tenth of
    # a millisecond each): a signed token only has characters a path keeps as
    # they are (URL-safe base64, "." and ":"). The last TOKEN: a script prefix
    # could hold the word too.
    prefix, _, suffix = reverse("unsubscribe", args=[_TOKEN_MARK]).rpartition(_TOKEN_MARK)
    return base + prefix, suffix


def preferences_url(membership: Membership) -> str:
    """The member's email preferences page in this alliance (they sign in first)."""
    slug = membership.alliance.slug
    return settings.SITE_BASE_URL + reverse("members:preferences", args=[slug])


def bulk_headers(*, membership: Membership, what: str, reply_to: str) -> dict[str, str]:
    """List-Unsubscribe (HTTPS one-click and mailto) for a digest or reminder.

    The mailto reaches the alliance's contact (`reply_to`) with the token in the
    subject, so staff can act on it; the HTTPS link works on its own. RFC 8058
    also wants the message DKIM-signed over both headers: that is the sending
    server's configuration, not ours.
    """
    return BulkHeaders(what=what, reply_to=reply_to)(membership)


class BulkHeaders:
    """`bulk_headers` for the many recipients of one run.

    The link's parts (the URL configuration and script prefix are thread-local
    lookups, 40 µs a recipient), the signer and the timestamp are looked up
    once, when the run starts: every token of a run carries its first second.
    """

    def __init__(self, *, what: str, reply_to: str):
        if what not in WHAT:
            raise ValueError(f"Nothing to unsubscribe from called {what!r}.")
        self.what, self.reply_to = what, reply_to
        self._prefix, self._suffix = _current_link_parts()
        self._signer, self._timestamp = _signer(settings.SECRET_KEY), _timestamp()

    def token(self, membership: Membership) -> str:
        return self._signer.token(
            membership.pk, membership.alliance_id, self.what, timestamp=self._timestamp
        )

    def __call__(self, membership: Membership) -> dict[str, str]:
        token = self.token(membership)
        links = [f"<{self._prefix}{token}{self._suffix}>"]
        if self.reply_to:
            # Without an address there is no mailto; bulk_header_problems reports it.
            # quote(): the token's only character it changes is ":".
            subject = "Unsubscribe%20" + token.replace(":", "%3A")
            links.append(f"<mailto:{self.reply_to}?subject={subject}>")
        return {
            "List-Unsubscribe": ", ".join(links),
            "List-Unsubscribe-Post": ONE_CLICK,
        }


def membership_from_token(token: str) -> tuple[Membership, str] | None:
    """(membership, what) a token names; None when forged or unknown."""
    payload = _payload(token)
    if payload is None:
        return None
    membership_id, alliance_id, what = payload
    membership = (
        Membership.objects.with_scope(alliance=alliance_id)
        .select_related("alliance", "user")
        .filter(pk=membership_id, alliance_id=alliance_id)
        .first()
    )
    return (membership, what) if membership else None


def _payload(token: str) -> tuple[int, int, str] | None:
    """(membership id, alliance id, what) of a genuine token, without a query."""
    try:
        payload = signing.loads(token, salt=SALT)
        membership_id, alliance_id, what = int(payload["m"]), int(payload["a"]), payload["w"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (membership_id, alliance_id, what) if what in WHAT else None


def unsubscribe_apply(*, membership: Membership, what: str) -> None:
    """Stop what the token names; idempotent."""
    if is_already_off(membership, what):
        return  # a repeated click changes nothing, not even the history
    if what == "digest":
        membership.digest = DigestPreference.OFF
        fields = ["digest"]
    else:
        membership.reminders = False
        fields = ["reminders"]
    # The member acts through their signed token, usually without a session: they
    # are the history row's "who". The token's alliance scopes the UPDATE.
    bulk_update_recorded(
        [membership],
        fields,
        by=membership.user,
        manager=Membership.objects.with_scope(alliance=membership.alliance_id),
    )


def is_already_off(membership: Membership, what: str) -> bool:
    if what == "digest":
        return membership.digest == DigestPreference.OFF
    return not membership.reminders


# The guarantee checked over the outbox (QUALITY.md, "Mail format")
# ------------------------------------------------------------------------------


def bulk_header_problems(rows: Iterable) -> list[str]:
    """One line per bulk outbox row whose headers break RFC 8058 or point wrong.

    `rows`: OutgoingEmail rows, or mappings with "kind", "headers" and
    "alliance_id". Other kinds are ignored. A bulk row must carry
    `List-Unsubscribe` with, in angle brackets, our own unsubscribe URL (under
    SITE_BASE_URL, so https wherever the site is) holding a genuine token for
    the row's alliance and the right switch, plus a mailto; and exactly
    `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    """
    problems = []
    for row in rows:
        kind, headers, alliance_id, name = _row_fields(row)
        if kind not in BULK_KINDS:
            continue
        problems += [f"{name} ({kind}): {p}" for p in _header_problems(kind, headers, alliance_id)]
    return problems


def _row_fields(row) -> tuple[str, Mapping, int | None, str]:
    if isinstance(row, Mapping):
        get = row.get
    else:

        def get(field, default=None):
            return getattr(row, field, default)

    name = f"outbox row {get('pk')}" if get("pk") is not None else f"to {get('recipient', '?')}"
    return get("kind", ""), get("headers") or {}, get("alliance_id"), name


def _header_problems(kind: str, headers: Mapping, alliance_id: int | None) -> list[str]:
    # Header names are case-insensitive (RFC 5322).
    headers = {str(key).lower(): str(value) for key, value in headers.items()}
    problems = []
    post = headers.get("list-unsubscribe-post")
    if post != ONE_CLICK:
        problems.append(f"List-Unsubscribe-Post is {post!r}, not {ONE_CLICK!r}")
    value = headers.get("list-unsubscribe")
    if not value:
        return [*problems, "no List-Unsubscribe header"]
    links = [part.strip() for part in value.split(",")]
    if not all(link.startswith("<") and link.endswith(">") for link in links):
        problems.append(f"List-Unsubscribe links are not each in angle brackets: {value!r}")
    links = [link.strip("<>") for link in links]
    web = [link for link in links if link.split(":", 1)[0].lower() in ("http", "https")]
    if len(web) != 1:
        problems.append(f"List-Unsubscribe has {len(web)} web links, RFC 8058 wants one")
    else:
        problems += _web_link_problems(web[0], kind, alliance_id)
    if not any(link.lower().startswith("mailto:") for link in links):
        problems.append("List-Unsubscribe has no mailto link")
    return problems


def _web_link_problems(url: str, kind: str, alliance_id: int | None) -> list[str]:
    if not url.startswith(settings.SITE_BASE_URL + "/"):
        return [f"the unsubscribe link {url} is not under SITE_BASE_URL {settings.SITE_BASE_URL}"]
    if settings.SITE_BASE_URL.startswith("https:") and not url.startswith("https:"):
        return [f"the unsubscribe link {url} is not https"]
    try:
        match = resolve(unquote(urlsplit(url).path))
    except Resolver404:
        match = None
    if match is None or match.url_name != "unsubscribe":
        return [f"the link {url} is not the unsubscribe page"]
    payload = _payload(match.kwargs["token"])
    if payload is None:
        return ["the unsubscribe token is not genuine"]
    _membership_id, token_alliance_id, what = payload
    problems = []
    if alliance_id is not None and token_alliance_id != alliance_id:
        problems.append(
            f"the token is for alliance {token_alliance_id}, the row's is {alliance_id}"
        )
    if what != WHAT_FOR_KIND[kind]:
        problems.append(f"the link stops {what!r}; a {kind} is stopped by {WHAT_FOR_KIND[kind]!r}")
    return problems
