"""The email preferences page: one membership's digest and reminders."""

import re

import pytest
from django.urls import reverse
from django_scopes import scope

from alliance.models import Alliance
from members.models import DigestPreference, Membership, Role
from members.services import email_preferences_update
from tests.factories import MembershipFactory
from tests.guardrails.matrix import TENANT_ROUTES, cross_tenant_problems

pytestmark = pytest.mark.django_db


def url(tenant) -> str:
    return reverse("members:preferences", args=[tenant.alliance.slug])


def fresh(membership) -> Membership:
    with scope(alliance=membership.alliance):
        return Membership.objects.get(pk=membership.pk)


def test_saves_and_redirects_with_a_message(client, tenant_a):
    client.force_login(tenant_a.member)
    response = client.post(url(tenant_a), {"digest": DigestPreference.WEEKLY})
    assert response.status_code == 302 and response["Location"] == url(tenant_a)
    membership = fresh(tenant_a.membership)
    # An unticked box is "no reminders".
    assert (membership.digest, membership.reminders) == (DigestPreference.WEEKLY, False)
    page = client.get(url(tenant_a)).content.decode()
    assert "Your email preferences are saved." in page
    assert re.search(r'value="weekly"[^>]*checked', page)
    response = client.post(url(tenant_a), {"digest": DigestPreference.OFF, "reminders": "on"})
    membership = fresh(tenant_a.membership)
    assert (membership.digest, membership.reminders) == (DigestPreference.OFF, True)


@pytest.mark.parametrize(
    "data", [{}, {"digest": "daily"}, {"digest": "x" * 10_000, "reminders": "on"}]
)
def test_invalid_answers_save_nothing(client, tenant_a, data):
    client.force_login(tenant_a.member)
    response = client.post(url(tenant_a), data)
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    membership = fresh(tenant_a.membership)
    assert (membership.digest, membership.reminders) == (DigestPreference.DEFAULT, True)


def test_a_ceo_sees_the_alliances_schedule_in_words(client, tenant_a):
    alliance = tenant_a.alliance
    alliance.digest_cadence = Alliance.DigestCadence.WEEKLY
    alliance.digest_weekday = 2
    alliance.digest_day_of_month = 15
    alliance.digest_hour = 6
    alliance.time_zone = "America/Chicago"
    alliance.save()
    client.force_login(tenant_a.member)
    page = client.get(url(tenant_a)).content.decode()
    assert (
        "As the alliance sends it to CEOs: every Wednesday at 06:00, America/Chicago time" in page
    )
    assert "Monthly, on the 15th of every month at 06:00, America/Chicago time" in page
    # Change notices are not a preference.
    assert "always come" in page


def test_others_learn_that_the_alliance_sends_digests_to_ceos_only(client, tenant_a):
    lead = MembershipFactory(
        alliance=tenant_a.alliance, organization=tenant_a.organization, role=Role.QUALITY_LEAD
    )
    client.force_login(lead.user)
    page = client.get(url(tenant_a)).content.decode()
    assert "As the alliance sends it: to CEOs only, so none for you" in page


def test_a_paused_alliance_says_so(client, tenant_a):
    tenant_a.alliance.digest_cadence = Alliance.DigestCadence.OFF
    tenant_a.alliance.save()
    client.force_login(tenant_a.member)
    assert "no digests at the moment" in client.get(url(tenant_a)).content.decode()


def test_choices_in_one_alliance_leave_the_other_alone(client, tenant_a, tenant_b):
    in_b = MembershipFactory(alliance=tenant_b.alliance, user=tenant_a.member, role=Role.CEO)
    client.force_login(tenant_a.member)
    client.post(url(tenant_a), {"digest": DigestPreference.OFF})
    assert fresh(tenant_a.membership).digest == DigestPreference.OFF
    b = fresh(in_b)
    assert (b.digest, b.reminders) == (DigestPreference.DEFAULT, True)


def test_profile_page_and_person_menu_link_here(client, tenant_a):
    client.force_login(tenant_a.member)
    profile = client.get(reverse("members:profile", args=[tenant_a.alliance.slug]))
    assert profile.content.decode().count(f'href="{url(tenant_a)}"') == 2  # page and menu
    page = client.get(url(tenant_a)).content.decode()
    assert f'href="{url(tenant_a)}" aria-current="page"' in page


def test_anonymous_is_sent_to_login(client, tenant_a):
    response = client.post(url(tenant_a), {"digest": DigestPreference.OFF})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert fresh(tenant_a.membership).digest == DigestPreference.DEFAULT


def test_b_cannot_be_reached_from_a(client, tenant_a, tenant_b):
    client.force_login(tenant_a.member)
    routes = {"members:preferences": TENANT_ROUTES["members:preferences"]}
    assert cross_tenant_problems(client, a=tenant_a, b=tenant_b, routes=routes) == []


def test_the_service_refuses_unknown_values(in_scope):
    with pytest.raises(ValueError):
        email_preferences_update(membership=in_scope.membership, digest="daily", reminders=True)
    updated = email_preferences_update(
        membership=in_scope.membership, digest=DigestPreference.MONTHLY, reminders=False
    )
    assert (updated.digest, updated.reminders) == (DigestPreference.MONTHLY, False)
