"""Member pages served from the cache, invalidated by every change to their alliance.

A cached page is one member's own rendering of one URL (the key holds the
user, so nothing one member sees is shown to another), stored with the
alliance's *generation* at the time: a random token in the cache that every
change to the alliance's rows replaces (`bump`). A page is served only while
its generation is still the alliance's, so a page rendered before a change is
never served after it. Time-dependent parts (upcoming lists, join links, "closes in")
are at most one minute behind: the key holds the current minute too.

What a rendering holds that belongs to one request is put back per request:
the CSRF token and the CSP nonce are stored as stand-ins and filled in when
served. A request with flash messages to show is rendered, never cached.

The tenant middleware's own query, the member's memberships in every alliance
(which alliance they may enter, with what role), is kept here too, for the
same minute: checked against the member's own generation, which every change
to one of their memberships replaces, and their alliances' generations.
See docs/performance.md.
"""

import hashlib
import re
import secrets
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

CSRF_STANDIN = b"\xee\x80\x80csrf\xee\x80\x80"
NONCE_STANDIN = b"\xee\x80\x80nonce\xee\x80\x80"
CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{64}(")')


def _generation_key(alliance_id: int) -> str:
    return f"member-page-generation:{alliance_id}"


def _member_generation_key(user_id: int) -> str:
    return f"memberships-generation:{user_id}"


def _memberships_key(user_id: int) -> str:
    return f"memberships:{user_id}"


def bump(alliance_ids) -> None:
    """Retire every cached page of these alliances, now and again at commit.

    Now, so that a reader inside the same transaction never gets the old page;
    at commit, because a page rendered between now and the commit still showed
    the old rows. A missed bump (the cache was down) is bounded by the minute
    in the key.
    """
    keys = [_generation_key(alliance_id) for alliance_id in set(alliance_ids) if alliance_id]
    if not keys:
        return

    def retire():
        cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=None)

    retire()
    transaction.on_commit(retire, robust=True)


def bump_member(user_id: int) -> None:
    """Forget the memberships kept for this user, now and again at commit."""

    def retire():
        cache.set(_member_generation_key(user_id), secrets.token_hex(8), timeout=None)

    retire()
    transaction.on_commit(retire, robust=True)


def bump_members(objs) -> None:
    """For memberships changed by queries (no signal): forget what was kept."""
    from members.models import Membership

    for user_id in {obj.user_id for obj in objs if isinstance(obj, Membership)}:
        bump_member(user_id)


def memberships(user_id: int, load):
    """The user's memberships as `load()` returns them, kept for the minute.

    Kept with the user's generation, read *before* `load` runs (every save,
    delete or bulk change of one of their memberships replaces it, so a change
    committed meanwhile retires what was loaded), and the generations of the
    alliances they are in (read after: an alliance or organization renamed
    while the query runs can show for the rest of the minute). Returned only
    while all of them are unchanged. Without a cache, or with
    MEMBER_PAGE_CACHE_SECONDS at 0, `load()` each time.
    """
    seconds = settings.MEMBER_PAGE_CACHE_SECONDS
    if not seconds:
        return load()
    member_key, key = _member_generation_key(user_id), _memberships_key(user_id)
    found = cache.get_many([key, member_key])
    stored = found.get(key)
    if stored is not None:
        kept_under, kept = stored
        current = cache.get_many(list(kept_under))
        if all(current.get(k) == token for k, token in kept_under.items()):
            return kept
    member_generation = found.get(member_key) or _new_generation(member_key)
    loaded = load()
    if member_generation is None:  # the cache is down
        return loaded
    keys = [_generation_key(m.alliance_id) for m in loaded]
    current = cache.get_many(keys)
    generations = {k: current.get(k) or _new_generation(k) for k in keys}
    generations[member_key] = member_generation
    if all(generations.values()):
        cache.set(key, (generations, loaded), timeout=seconds)
    return loaded


def _new_generation(key: str) -> str | None:
    # First use, or the cache lost it: a fresh token, never an old one.
    cache.add(key, secrets.token_hex(8), timeout=None)
    return cache.get(key)


def _page_key(request) -> str:
    user, membership = request.user, request.membership
    viewer = (
        # The user row has no alliance: what of it a page shows goes in the key.
        user.pk,
        user.email,
        user.full_name,
        str(user.time_zone),
        user.is_staff,
        user.is_superuser,
        membership.pk,
        membership.role,
        membership.organization_id,
        # The alliance switcher names the member's other alliances.
        tuple((a.pk, a.slug, a.name) for a in request.user_alliances),
        int(timezone.now().timestamp() // 60),
        request.get_full_path(),
    )
    digest = hashlib.blake2b(repr(viewer).encode(), digest_size=16).hexdigest()
    return f"member-page:{request.alliance.pk}:{digest}"


def _has_messages(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _storable(response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and response.get("Content-Type", "").startswith("text/html")
    )


def _to_stored(request, content: bytes) -> bytes:
    content = CSRF_INPUT.sub(rb"\1" + CSRF_STANDIN + rb"\2", content)
    nonce = getattr(request, "_csp_nonce", None)
    if isinstance(nonce, str):
        content = content.replace(nonce.encode(), NONCE_STANDIN)
    return content


def _from_stored(request, content: bytes) -> bytes:
    if CSRF_STANDIN in content:
        content = content.replace(CSRF_STANDIN, get_token(request).encode())
    if NONCE_STANDIN in content:
        content = content.replace(NONCE_STANDIN, str(request.csp_nonce).encode())
    return content


def member_page(view):
    """Serve a member page from the cache when its alliance has not changed since."""

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        seconds = settings.MEMBER_PAGE_CACHE_SECONDS
        if not seconds or request.method != "GET" or _has_messages(request):
            return view(request, *args, **kwargs)
        # One round trip: the alliance's generation and this page as last stored.
        generation_key, key = _generation_key(request.alliance.pk), _page_key(request)
        found = cache.get_many([generation_key, key])
        generation = found.get(generation_key) or _new_generation(generation_key)
        if generation is None:  # the cache is down
            return view(request, *args, **kwargs)
        stored = found.get(key)
        if stored is not None and stored[0] == generation:
            _, content, content_type = stored
            return HttpResponse(_from_stored(request, content), content_type=content_type)
        response = view(request, *args, **kwargs)
        if _storable(response) and not _has_messages(request):
            content = _to_stored(request, response.content)
            cache.set(key, (generation, content, response["Content-Type"]), timeout=seconds)
        return response

    return cached_view


# Invalidation
# ------------------------------------------------------------------------------


def _alliance_id_of(instance) -> int | None:
    """The alliance a changed row belongs to, or None for rows no page shows."""
    from alliance.models import Alliance, AuditEvent, OutgoingEmail, SharedEmailBody

    if isinstance(instance, Alliance):
        return instance.pk
    if isinstance(instance, OutgoingEmail | SharedEmailBody | AuditEvent) or hasattr(
        instance, "history_id"
    ):
        return None  # mail, audit and history rows appear on no member page
    if hasattr(instance, "alliance_id"):
        return instance.alliance_id
    for parent in ("meeting", "workgroup"):  # the scope paths through a parent
        if hasattr(instance, f"{parent}_id"):
            return getattr(instance, parent).alliance_id
    return None


def _changed(sender, instance, **kwargs):
    alliance_id = _alliance_id_of(instance)
    if alliance_id is not None:
        bump([alliance_id])


def _membership_changed(sender, instance, **kwargs):
    # Saved or deleted: which alliances the person may enter, and as what.
    if instance.user_id:
        bump_member(instance.user_id)


def _user_changed(sender, instance, update_fields=None, **kwargs):
    # Signing in saves last_login, which no page shows.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    from alliance.tenancy.permissions import own_memberships

    # A name or a zone shows on the pages of every alliance the person is in.
    bump(m.alliance_id for m in own_memberships(instance))


def connect_signals() -> None:
    from django.contrib.auth import get_user_model

    # No post_delete for rows in general: a listener would stop Django deleting
    # cascades in bulk (every reading loaded to send its signal). Rows are
    # deleted only in the admin, and every unsafe request bumps its alliances
    # (the middleware). Memberships are the exception, below.
    post_save.connect(_changed, dispatch_uid="pagecache-save")
    m2m_changed.connect(_changed, dispatch_uid="pagecache-m2m")
    post_save.connect(_user_changed, sender=get_user_model(), dispatch_uid="pagecache-user")
    from members.models import Membership

    # Memberships are few and deleted one by one: a post_delete costs no bulk cascade.
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="pagecache-member")
    post_delete.connect(
        _membership_changed, sender=Membership, dispatch_uid="pagecache-member-delete"
    )


def alliance_ids_of(objs) -> set[int]:
    """For changes made by queries (update, bulk_update) that send no signal."""
    return {alliance_id for obj in objs if (alliance_id := _alliance_id_of(obj)) is not None}
