"""One-click unsubscribe (RFC 8058) and the headers every bulk email carries.

QUALITY.md: a POST with no cookie or CSRF token unsubscribes; a GET changes
nothing; the token is signed and bound to one alliance and one member.
"""

from email import message_from_bytes
from urllib.parse import unquote, urlsplit

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from alliance.models import OutgoingEmail
from alliance.notifications import outbox
from alliance.notifications.unsubscribe import (
    BULK_KINDS,
    SALT,
    WHAT_FOR_KIND,
    bulk_header_problems,
    bulk_headers,
    membership_from_token,
    token_for,
    unsubscribe_url,
)
from members.models import DigestPreference, Membership, Role
from sessions import calendars
from tests.factories import MembershipFactory
from tests.guardrails.snapshot import all_rows

pytestmark = pytest.mark.django_db

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


def path_for(membership, what="digest") -> str:
    return urlsplit(unsubscribe_url(membership, what)).path


def fresh(membership) -> Membership:
    with scope(alliance=membership.alliance):
        return Membership.objects.get(pk=membership.pk)


@pytest.fixture
def mail_client() -> Client:
    """What a mail provider's one-click POST looks like: no login, no cookie, and
    Django's CSRF check enforced (the test client skips it by default)."""
    return Client(enforce_csrf_checks=True)


# The one-click POST
# ------------------------------------------------------------------------------


def test_one_click_post_without_cookie_or_csrf_stops_digests(mail_client, tenant_a):
    response = mail_client.post(path_for(tenant_a.membership), ONE_CLICK_BODY, content_type=FORM)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    # A mail provider is handed no cookie to keep.
    assert not response.cookies
    membership = fresh(tenant_a.membership)
    assert membership.digest == DigestPreference.OFF
    assert membership.reminders is True


def test_one_click_post_as_multipart_stops_reminders(mail_client, tenant_a):
    # RFC 8058 allows multipart/form-data too (the test client's default).
    response = mail_client.post(
        path_for(tenant_a.membership, "reminders"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    membership = fresh(tenant_a.membership)
    assert membership.reminders is False
    assert membership.digest == DigestPreference.DEFAULT


def test_the_confirmation_button_posts_and_a_second_post_changes_nothing_more(
    mail_client, tenant_a
):
    path = path_for(tenant_a.membership)
    page = mail_client.get(path).content.decode()
    assert '<form method="post">' in page and 'name="List-Unsubscribe"' in page
    assert mail_client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    before = all_rows()
    assert mail_client.post(path, ONE_CLICK_BODY, content_type=FORM).status_code == 200
    assert all_rows() == before


def test_a_signed_in_member_of_another_alliance_posts_the_link_too(client, tenant_a, tenant_b):
    # The token, not the session, decides whose preference changes.
    client.force_login(tenant_b.member)
    response = client.post(path_for(tenant_a.membership), ONE_CLICK_BODY, content_type=FORM)
    assert response.status_code == 200
    assert fresh(tenant_a.membership).digest == DigestPreference.OFF
    assert fresh(tenant_b.membership).digest == DigestPreference.DEFAULT


def test_responses_are_private_uncached_and_not_indexed(mail_client, tenant_a):
    path = path_for(tenant_a.membership)
    for response in (
        mail_client.get(path),
        mail_client.post(path, ONE_CLICK_BODY, content_type=FORM),
        mail_client.get(path[:-1] + "x/"),  # tampered: the 404 page
    ):
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control
        assert "noindex" in response["X-Robots-Tag"]
        assert response["Referrer-Policy"] == "no-referrer"


def test_other_methods_are_refused(mail_client, tenant_a):
    path = path_for(tenant_a.membership)
    assert mail_client.put(path, ONE_CLICK_BODY, content_type=FORM).status_code == 405
    assert mail_client.delete(path).status_code == 405
    assert fresh(tenant_a.membership).digest == DigestPreference.DEFAULT


# GET: a confirmation page, nothing changes
# ------------------------------------------------------------------------------


def test_get_and_head_change_nothing(mail_client, tenant_a):
    before = all_rows()
    for what in ("digest", "reminders"):
        assert mail_client.get(path_for(tenant_a.membership, what)).status_code == 200
        assert mail_client.head(path_for(tenant_a.membership, what)).status_code == 200
    assert all_rows() == before


def test_get_names_what_stops_and_the_alliance_and_only_a_first_name(mail_client, tenant_a):
    user = tenant_a.member
    user.full_name = "Ada Lovelace-Quill"
    user.save()
    page = mail_client.get(path_for(tenant_a.membership)).content.decode()
    assert "progress digests" in page
    assert tenant_a.alliance.name in page
    assert "Ada," in page
    assert "Lovelace" not in page and user.email not in page
    page = mail_client.get(path_for(tenant_a.membership, "reminders")).content.decode()
    assert "meeting and roundtable reminders" in page
    # Change notices are not bulk mail: the page says they still come.
    assert "still come" in page


def test_get_says_when_there_is_nothing_to_stop(mail_client, tenant_a):
    mail_client.post(path_for(tenant_a.membership), ONE_CLICK_BODY, content_type=FORM)
    page = mail_client.get(path_for(tenant_a.membership)).content.decode()
    assert "already receive no progress digests" in page
    assert "<form" not in page


# Tokens that must not work
# ------------------------------------------------------------------------------


def tampered_tokens(tenant) -> list[str]:
    token = token_for(tenant.membership, "digest")
    head, _, signature = token.rpartition(":")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        f"{head}:{flipped}",
        token[:-4],
        "x" + token,
        "not-a-token",
        # Genuinely signed, but for another purpose: the salt keeps it out.
        calendars.feed_token(tenant.membership),
        signing.dumps({"m": tenant.membership.pk, "a": tenant.alliance.pk, "w": "digest"}),
        # Signed with our salt, but naming nothing this page can stop.
        signing.dumps({"m": tenant.membership.pk, "a": tenant.alliance.pk, "w": "all"}, salt=SALT),
        signing.dumps({"m": tenant.membership.pk, "w": "digest"}, salt=SALT),
    ]


def test_tampered_tokens_are_a_404_and_change_nothing(mail_client, tenant_a):
    before = all_rows()
    for token in tampered_tokens(tenant_a):
        path = reverse("unsubscribe", args=[token])
        for response in (
            mail_client.get(path),
            mail_client.post(path, ONE_CLICK_BODY, content_type=FORM),
        ):
            assert response.status_code == 404, token
            assert "This unsubscribe link is not valid" in response.content.decode()
    assert all_rows() == before


def test_a_token_naming_another_alliances_member_changes_nothing(mail_client, tenant_a, tenant_b):
    """Even a correctly signed token cannot reach across: the member is looked up
    in the signed alliance only (and inside its scope)."""
    crossed = [
        {"m": tenant_b.membership.pk, "a": tenant_a.alliance.pk, "w": "digest"},
        {"m": tenant_a.membership.pk, "a": tenant_b.alliance.pk, "w": "reminders"},
    ]
    before = all_rows()
    for payload in crossed:
        token = signing.dumps(payload, salt=SALT, compress=True)
        assert membership_from_token(token) is None
        path = reverse("unsubscribe", args=[token])
        assert mail_client.post(path, ONE_CLICK_BODY, content_type=FORM).status_code == 404
        assert mail_client.get(path).status_code == 404
    assert all_rows() == before


def test_a_token_of_as_member_leaves_b_alone(mail_client, tenant_a, tenant_b):
    before_b = fresh(tenant_b.membership)
    mail_client.post(path_for(tenant_a.membership), ONE_CLICK_BODY, content_type=FORM)
    mail_client.post(path_for(tenant_a.membership, "reminders"), ONE_CLICK_BODY, content_type=FORM)
    after_b = fresh(tenant_b.membership)
    assert (after_b.digest, after_b.reminders) == (before_b.digest, before_b.reminders)


def test_one_person_in_two_alliances_unsubscribes_in_one_only(mail_client, tenant_a, tenant_b):
    in_b = MembershipFactory(
        alliance=tenant_b.alliance, user=tenant_a.member, role=Role.QUALITY_LEAD
    )
    with scope(alliance=tenant_b.alliance):
        Membership.objects.filter(pk=in_b.pk).update(digest=DigestPreference.WEEKLY)
    mail_client.post(path_for(tenant_a.membership), ONE_CLICK_BODY, content_type=FORM)
    mail_client.post(path_for(tenant_a.membership, "reminders"), ONE_CLICK_BODY, content_type=FORM)
    a, b = fresh(tenant_a.membership), fresh(in_b)
    assert (a.digest, a.reminders) == (DigestPreference.OFF, False)
    assert (b.digest, b.reminders) == (DigestPreference.WEEKLY, True)


# The headers (RFC 8058)
# ------------------------------------------------------------------------------


@pytest.fixture
def https_site(settings):
    settings.SITE_BASE_URL = "https://portal.example.org"


def test_bulk_headers_follow_rfc_8058(https_site, tenant_a):
    headers = bulk_headers(
        membership=tenant_a.membership, what="digest", reply_to=tenant_a.alliance.contact_email
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    web, mailto = headers["List-Unsubscribe"].split(", ")
    # Each URI in angle brackets (RFC 2369); the web one https, our page, one click.
    assert web.startswith("<https://portal.example.org/unsubscribe/") and web.endswith("/>")
    assert mailto.startswith(f"<mailto:{tenant_a.alliance.contact_email}?subject=Unsubscribe%20")
    assert mailto.endswith(">")
    assert " " not in web + mailto and "\n" not in headers["List-Unsubscribe"]
    token = unquote(mailto.split("%20", 1)[1].rstrip(">"))
    assert membership_from_token(token) == (tenant_a.membership, "digest")


def test_tokens_are_djangos_own_signing_with_the_key_derived_once(monkeypatch, tenant_a):
    """The quicker signer makes the very token `signing.dumps` would, at the same second."""
    from urllib.parse import quote

    monkeypatch.setattr(signing.time, "time", lambda: 1_800_000_000.5)
    membership = tenant_a.membership
    payload = {"m": membership.pk, "a": membership.alliance_id, "w": "reminders"}
    token = token_for(membership, "reminders")
    assert token == signing.dumps(payload, salt=SALT, compress=True)
    assert signing.loads(token, salt=SALT) == payload
    headers = bulk_headers(membership=membership, what="reminders", reply_to="staff@example.org")
    assert headers["List-Unsubscribe"] == (
        f"<{unsubscribe_url(membership, 'reminders')}>, "
        f"<mailto:staff@example.org?subject={quote(f'Unsubscribe {token}')}>"
    )


def test_a_changed_secret_key_signs_with_the_new_key(settings, tenant_a):
    old = token_for(tenant_a.membership, "digest")
    settings.SECRET_KEY = "another-secret-key-for-this-test-" + "x" * 40
    new = token_for(tenant_a.membership, "digest")
    assert signing.loads(new, salt=SALT)["m"] == tenant_a.membership.pk
    with pytest.raises(signing.BadSignature):
        signing.loads(old, salt=SALT)


def test_the_header_link_unsubscribes_with_one_click(https_site, mail_client, tenant_a):
    headers = bulk_headers(membership=tenant_a.membership, what="reminders", reply_to="x@y.example")
    url = headers["List-Unsubscribe"].split(", ")[0].strip("<>")
    response = mail_client.post(urlsplit(url).path, ONE_CLICK_BODY, content_type=FORM)
    assert response.status_code == 200
    assert fresh(tenant_a.membership).reminders is False


def test_without_a_reply_to_there_is_no_empty_mailto(tenant_a):
    headers = bulk_headers(membership=tenant_a.membership, what="digest", reply_to="")
    assert "mailto" not in headers["List-Unsubscribe"]
    assert headers["List-Unsubscribe"].count("<") == 1


# bulk_header_problems: the check the digest and reminder tests run over the outbox
# ------------------------------------------------------------------------------


def row(tenant, kind, **headers_options) -> OutgoingEmail:
    what = headers_options.pop("what", WHAT_FOR_KIND.get(kind, "digest"))
    membership = headers_options.pop("membership", tenant.membership)
    return OutgoingEmail(
        alliance=tenant.alliance,
        kind=kind,
        recipient=membership.user.email,
        headers=bulk_headers(
            membership=membership,
            what=what,
            reply_to=headers_options.pop("reply_to", tenant.alliance.contact_email),
        ),
    )


@pytest.mark.parametrize("site", ["http://127.0.0.1:8000", "https://portal.example.org"])
def test_every_bulk_kind_built_with_bulk_headers_passes(settings, tenant_a, site):
    settings.SITE_BASE_URL = site
    rows = [row(tenant_a, kind) for kind in sorted(BULK_KINDS)]
    assert {r.kind for r in rows} == {
        "digest",
        "meeting_reminder",
        "roundtable_reminder",
        "rsvp_nudge",
    }
    assert bulk_header_problems(rows) == []
    # Mappings (e.g. .values() of the outbox) are checked the same way.
    assert bulk_header_problems([vars(r) for r in rows]) == []


def test_the_check_reports_what_is_wrong(https_site, settings, tenant_a, tenant_b):
    missing = OutgoingEmail(alliance=tenant_a.alliance, kind="digest", headers={})
    no_post = row(tenant_a, "meeting_reminder")
    del no_post.headers["List-Unsubscribe-Post"]
    wrong_switch = row(tenant_a, "roundtable_reminder", what="digest")
    other_alliance = row(tenant_a, "digest", membership=tenant_b.membership)
    no_mailto = row(tenant_a, "rsvp_nudge", reply_to="")
    unbracketed = row(tenant_a, "digest")
    unbracketed.headers["List-Unsubscribe"] = unbracketed.headers["List-Unsubscribe"].replace(
        "<", ""
    )
    forged = row(tenant_a, "digest")
    forged.headers["List-Unsubscribe"] = forged.headers["List-Unsubscribe"].replace(
        "/unsubscribe/", "/unsubscribe/x"
    )
    settings.SITE_BASE_URL = "http://127.0.0.1:8000"
    plain_http = row(tenant_a, "digest")
    settings.SITE_BASE_URL = "https://portal.example.org"
    problems = "\n".join(
        bulk_header_problems(
            [
                missing,
                no_post,
                wrong_switch,
                other_alliance,
                no_mailto,
                unbracketed,
                forged,
                plain_http,
            ]
        )
    )
    for expected in (
        "(digest): no List-Unsubscribe header",
        "(meeting_reminder): List-Unsubscribe-Post is None",
        "(roundtable_reminder): the link stops 'digest'",
        f"the token is for alliance {tenant_b.alliance.pk}",
        "(rsvp_nudge): List-Unsubscribe has no mailto link",
        "not each in angle brackets",
        "the unsubscribe token is not genuine",
        "is not under SITE_BASE_URL",
    ):
        assert expected in problems
    assert len(problems.splitlines()) == 9  # "missing" also lacks the Post header


def test_other_kinds_are_not_bulk(tenant_a):
    rows = [
        OutgoingEmail(alliance=tenant_a.alliance, kind=kind, headers={})
        for kind in ("account", "invitation", "meeting_change", "need_help")
    ]
    assert bulk_header_problems(rows) == []


def test_queued_and_delivered_bulk_mail_keeps_its_headers(
    tenant_a, django_capture_on_commit_callbacks
):
    headers = bulk_headers(
        membership=tenant_a.membership, what="digest", reply_to=tenant_a.alliance.contact_email
    )
    with scope(alliance=tenant_a.alliance), django_capture_on_commit_callbacks(execute=True):
        queued = outbox.enqueue_rendered(
            kind="digest",
            recipient=tenant_a.member.email,
            subject="Your monthly digest",
            text_body="Progress",
            alliance=tenant_a.alliance,
            key="2021-03",
            reply_to=tenant_a.alliance.contact_email,
            headers=headers,
        )
        assert bulk_header_problems(OutgoingEmail.objects.filter(pk=queued.pk)) == []
    # Celery runs eagerly in tests: the commit delivered it.
    (message,) = [m for m in mail.outbox if m.subject == "Your monthly digest"]
    parsed = message_from_bytes(message.message().as_bytes())
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Folding may split the long header across lines; unfolded it is unchanged.
    assert " ".join(parsed["List-Unsubscribe"].split()) == headers["List-Unsubscribe"]
