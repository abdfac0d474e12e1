"""Member pages served from the cache (alliance/pagecache.py): never stale, never shared."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from alliance import pagecache
from alliance import views as alliance_views
from members.models import Role
from sessions.models import Registration
from sessions.services import calendar_feed_revoke
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
NONCE = re.compile(r'nonce="([^"]+)"')


@pytest.fixture
def renders(monkeypatch):
    """How many times the alliance home was really rendered."""
    calls = []
    original = alliance_views.selectors.upcoming_events

    def counting(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(alliance_views.selectors, "upcoming_events", counting)
    return calls


def generation(tenant) -> str | None:
    return cache.get(pagecache._generation_key(tenant.alliance.pk))


def home(tenant) -> str:
    return reverse("alliance_home", args=[tenant.alliance.slug])


def meeting_page(tenant) -> str:
    return reverse("meetings:detail", args=[tenant.alliance.slug, tenant.meeting.pk])


def test_a_second_visit_is_served_without_rendering(client, tenant_a, renders):
    client.force_login(tenant_a.member)
    first = client.get(home(tenant_a))
    second = client.get(home(tenant_a))
    assert len(renders) == 1
    assert second.status_code == 200
    assert tenant_a.program_year.name in second.content.decode()

    # The same page but for the per-request parts.
    def fixed(response):
        return TOKEN.sub("", NONCE.sub("", response.content.decode()))

    assert fixed(first) == fixed(second)
    assert TOKEN.search(second.content.decode()).group(1) != TOKEN.search(
        first.content.decode()
    ).group(1)


def test_off_when_the_setting_is_zero(client, tenant_a, renders, settings):
    settings.MEMBER_PAGE_CACHE_SECONDS = 0
    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    client.get(home(tenant_a))
    assert len(renders) == 2


def test_each_member_gets_their_own_page(client, tenant_a, renders):
    with scope(alliance=tenant_a.alliance):
        other = MembershipFactory(
            alliance=tenant_a.alliance,
            organization=OrganizationFactory(alliance=tenant_a.alliance, name="Mercy North"),
            role=Role.TRUSTEE,
            user__full_name="Tess Trustee",
        )
    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    client.force_login(other.user)
    page = client.get(home(tenant_a)).content.decode()
    assert len(renders) == 2
    assert "Tess Trustee" in page and "Mercy North" in page
    assert tenant_a.member.full_name not in page


def test_a_change_through_a_service_shows_at_once(client, tenant_a):
    client.force_login(tenant_a.member)
    url = meeting_page(tenant_a)
    client.get(url)
    rsvp = reverse("meetings:rsvp", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
    assert client.post(rsvp, {"response": "virtual"}).status_code == 302
    page = client.get(url).content.decode()
    assert re.search(r'value="virtual"[^>]*checked', page)


def test_a_saved_row_retires_the_alliances_pages(client, tenant_a, tenant_b):
    client.force_login(tenant_a.member)
    schedule = reverse("meetings:schedule", args=[tenant_a.alliance.slug])
    client.get(schedule)
    with scope(alliance=tenant_a.alliance):
        tenant_a.meeting.title = "Renamed by staff"
        tenant_a.meeting.save()
    assert "Renamed by staff" in client.get(schedule).content.decode()


def test_a_change_by_query_retires_the_pages_too(client, tenant_a):
    # calendar_feed_revoke changes the row with UPDATE: no save signal.
    client.force_login(tenant_a.member)
    calendar = reverse("meetings:calendar", args=[tenant_a.alliance.slug])
    before = generation(tenant_a)
    client.get(calendar)
    with scope(alliance=tenant_a.alliance):
        calendar_feed_revoke(membership=tenant_a.membership)
    assert generation(tenant_a) != before


def test_a_deletion_in_the_admin_retires_the_pages(client, tenant_a, tenant_b, totp_for):
    member = Client()
    member.force_login(tenant_a.member)
    assert tenant_a.notice.title in member.get(home(tenant_a)).content.decode()
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    delete = reverse("admin:alliance_notice_delete", args=[tenant_a.notice.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert tenant_a.notice.title not in member.get(home(tenant_a)).content.decode()


def test_another_alliance_changing_leaves_the_page_cached(client, tenant_a, tenant_b, renders):
    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    with scope(alliance=tenant_b.alliance):
        tenant_b.meeting.title = "Elsewhere"
        tenant_b.meeting.save()
    client.get(home(tenant_a))
    assert len(renders) == 1


def test_a_renamed_member_shows_in_other_members_pages(client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        reader = MembershipFactory(alliance=tenant_a.alliance, role=Role.TRUSTEE).user
    client.force_login(reader)
    directory = reverse("members:directory", args=[tenant_a.alliance.slug])
    client.get(directory)
    tenant_a.member.full_name = "Renamed Person"
    tenant_a.member.save()
    assert "Renamed Person" in client.get(directory).content.decode()


def test_signing_in_does_not_retire_pages(tenant_a):
    before = generation(tenant_a)
    tenant_a.member.save(update_fields=["last_login"])
    assert generation(tenant_a) == before


def test_mail_queued_does_not_retire_pages(client, tenant_a):
    from alliance.models import SharedEmailBody
    from alliance.notifications import outbox

    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    before = generation(tenant_a)
    assert before is not None
    alliance = tenant_a.alliance
    with scope(alliance=alliance):
        body = SharedEmailBody.objects.create(alliance=alliance, text_body="x", html_body="x")
        outbox.new_row(
            alliance=alliance,
            kind="test",
            recipient="a@example.org",
            subject="Hi",
            text_body="",
            shared_body=body,
        ).as_model().save()
    assert generation(tenant_a) == before


def test_a_cached_page_carries_a_csrf_token_for_this_browser(tenant_a):
    url = meeting_page(tenant_a)
    first = Client(enforce_csrf_checks=True)
    first.force_login(tenant_a.member)
    first.get(url)
    second = Client(enforce_csrf_checks=True)
    second.force_login(tenant_a.member)
    page = second.get(url).content.decode()
    token = TOKEN.search(page).group(1)
    rsvp = reverse("meetings:rsvp", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
    response = second.post(rsvp, {"response": "virtual", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_a_cached_page_carries_this_responses_nonce(client, tenant_a):
    client.force_login(tenant_a.member)
    first = client.get(home(tenant_a))
    second = client.get(home(tenant_a))
    nonces = set(NONCE.findall(second.content.decode()))
    assert len(nonces) == 1
    [nonce] = nonces
    assert f"'nonce-{nonce}'" in second["Content-Security-Policy"]
    assert nonce not in first.content.decode()


def test_a_flash_message_is_shown_once_and_never_cached(client, tenant_a):
    client.force_login(tenant_a.member)
    url = meeting_page(tenant_a)
    client.get(url)
    rsvp = reverse("meetings:rsvp", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
    shown = client.post(rsvp, {"response": "virtual"}, follow=True).content.decode()
    assert 'class="messages"' in shown
    assert 'class="messages"' not in client.get(url).content.decode()


def test_the_minute_is_part_of_the_key(client, tenant_a, renders, monkeypatch):
    import datetime

    from django.utils import timezone

    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    later = timezone.now() + datetime.timedelta(minutes=1)
    monkeypatch.setattr(pagecache.timezone, "now", lambda: later)
    client.get(home(tenant_a))
    assert len(renders) == 2


def test_without_a_cache_the_page_is_rendered(client, tenant_a, renders, monkeypatch):
    from django.core.cache.backends.dummy import DummyCache

    monkeypatch.setattr(pagecache, "cache", DummyCache("dummy", {}))
    client.force_login(tenant_a.member)
    assert client.get(home(tenant_a)).status_code == 200
    assert client.get(home(tenant_a)).status_code == 200
    assert len(renders) == 2


def test_registration_answers_stay_per_member(client, tenant_a):
    # Two members of one organization: each sees their own answer on the same page.
    with scope(alliance=tenant_a.alliance):
        colleague = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization, role=Role.TRUSTEE
        )
        Registration.objects.filter(pk=tenant_a.registration.pk).update(response="in_person")
    url = meeting_page(tenant_a)
    client.force_login(tenant_a.member)
    mine = client.get(url).content.decode()
    client.force_login(colleague.user)
    theirs = client.get(url).content.decode()
    assert re.search(r'value="in_person"[^>]*checked', mine)
    assert not re.search(r'value="in_person"[^>]*checked', theirs)


# The memberships the tenant middleware checks, kept for the minute
# ------------------------------------------------------------------------------

MEMBERSHIPS_QUERY = 'FROM "members_membership" INNER JOIN "alliance_alliance"'


def membership_queries(client, path) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response.status_code, sum(MEMBERSHIPS_QUERY in q["sql"] for q in queries)


def test_the_memberships_are_read_once_for_the_minute(client, tenant_a):
    client.force_login(tenant_a.member)
    assert membership_queries(client, home(tenant_a)) == (200, 1)
    assert membership_queries(client, meeting_page(tenant_a)) == (200, 0)


def test_a_change_committed_during_the_query_is_not_kept(client, tenant_a, monkeypatch):
    # The member's generation is read before the query: a membership ended
    # while the query runs (its bump lands after the read) leaves nothing usable.
    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    pagecache.bump_member(tenant_a.member.pk)  # what was kept is stale: load again
    original = pagecache.memberships

    def ended_meanwhile(user_id, load):
        def load_then_end():
            loaded = load()
            with scope(alliance=tenant_a.alliance):
                tenant_a.membership.is_active = False
                tenant_a.membership.save()
            return loaded

        return original(user_id, load_then_end)

    monkeypatch.setattr(pagecache, "memberships", ended_meanwhile)
    assert client.get(home(tenant_a)).status_code == 200  # loaded before the change
    monkeypatch.setattr(pagecache, "memberships", original)
    assert client.get(home(tenant_a)).status_code == 404


def test_a_membership_changed_by_a_query_counts_at_once(client, tenant_a):
    # bulk_update_recorded sends no signal: it forgets the member's memberships itself.
    from alliance.tenancy.history import bulk_update_recorded

    client.force_login(tenant_a.member)
    assert client.get(home(tenant_a)).status_code == 200
    with scope(alliance=tenant_a.alliance):
        tenant_a.membership.is_active = False
        bulk_update_recorded([tenant_a.membership], ["is_active"])
    assert client.get(home(tenant_a)).status_code == 404


def test_without_the_page_cache_they_are_read_each_time(client, tenant_a, settings):
    settings.MEMBER_PAGE_CACHE_SECONDS = 0
    client.force_login(tenant_a.member)
    assert membership_queries(client, home(tenant_a)) == (200, 1)
    assert membership_queries(client, home(tenant_a)) == (200, 1)


def test_a_membership_ended_is_refused_at_once(client, tenant_a):
    client.force_login(tenant_a.member)
    assert client.get(home(tenant_a)).status_code == 200
    with scope(alliance=tenant_a.alliance):
        tenant_a.membership.is_active = False
        tenant_a.membership.save()
    assert client.get(home(tenant_a)).status_code == 404


def test_a_membership_deleted_is_refused_at_once(client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        # A new member: nothing of theirs protects the membership from deletion.
        newcomer = MembershipFactory(alliance=tenant_a.alliance, role=Role.TRUSTEE)
    client.force_login(newcomer.user)
    assert client.get(home(tenant_a)).status_code == 200
    with scope(alliance=tenant_a.alliance):
        newcomer.delete()
    assert client.get(home(tenant_a)).status_code == 404


def test_a_role_changed_counts_at_once(client, tenant_a):
    client.force_login(tenant_a.member)
    client.get(home(tenant_a))
    assert membership_queries(client, home(tenant_a)) == (200, 0)
    with scope(alliance=tenant_a.alliance):
        tenant_a.membership.role = Role.TRUSTEE
        tenant_a.membership.save()
    assert membership_queries(client, home(tenant_a)) == (200, 1)


def test_a_new_alliance_can_be_entered_at_once(client, tenant_a, tenant_b):
    client.force_login(tenant_a.member)
    assert client.get(home(tenant_a)).status_code == 200
    assert client.get(home(tenant_b)).status_code == 404
    with scope(alliance=tenant_b.alliance):
        MembershipFactory(alliance=tenant_b.alliance, user=tenant_a.member, role=Role.TRUSTEE)
    assert client.get(home(tenant_b)).status_code == 200
    assert tenant_b.alliance.name in client.get(home(tenant_a)).content.decode()


def test_a_renamed_alliance_shows_at_once(client, tenant_a):
    client.force_login(tenant_a.member)
    assert client.get(home(tenant_a)).status_code == 200
    tenant_a.alliance.short_name = "Renamed Alliance"
    tenant_a.alliance.save()
    assert "Renamed Alliance" in client.get(meeting_page(tenant_a)).content.decode()


def test_another_members_memberships_are_never_used(client, tenant_a, tenant_b):
    client.force_login(tenant_b.member)
    assert client.get(home(tenant_b)).status_code == 200
    client.force_login(tenant_a.member)
    assert client.get(home(tenant_b)).status_code == 404
    assert client.get(home(tenant_a)).status_code == 200
