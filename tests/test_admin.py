"""The admin shows staff only their own alliances' rows."""

import pytest
from django.urls import reverse
from django_scopes import scope

from members.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def test_changelist_shows_only_own_alliance(staff_client, tenant_a, tenant_b):
    response = staff_client.get(reverse("admin:members_organization_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert tenant_a.organization.name in page
    assert tenant_b.organization.name not in page
    assert tenant_b.alliance.name not in page


def test_other_alliances_change_url_is_not_reachable(staff_client, tenant_b):
    url = reverse("admin:members_organization_change", args=[tenant_b.organization.pk])
    response = staff_client.get(url)
    # Django's admin redirects to the index with "does not exist" for a hidden row.
    assert response.status_code in (302, 404)
    response = staff_client.post(url, {"name": "hijacked", "is_active": "on"})
    assert response.status_code in (302, 404)
    with scope(alliance=tenant_b.alliance):
        assert Organization.objects.get(pk=tenant_b.organization.pk).name != "hijacked"


def test_membership_form_offers_only_own_rows(staff_client, tenant_a, tenant_b):
    page = staff_client.get(reverse("admin:members_membership_add")).content.decode()
    assert tenant_a.organization.name in page
    assert tenant_b.organization.name not in page
    assert tenant_b.member.email not in page
    assert tenant_b.alliance.name not in page


def test_foreign_key_injection_is_refused(staff_client, tenant_a, tenant_b):
    url = reverse("admin:members_membership_add")
    response = staff_client.post(
        url,
        {
            "user": tenant_b.member.pk,
            "alliance": tenant_b.alliance.pk,
            "organization": tenant_b.organization.pk,
            "role": "ceo",
            "joined_at_0": "2021-01-01",
            "joined_at_1": "10:00:00",
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # the form again, with errors
    assert b"Select a valid choice" in response.content
    with scope(alliance=tenant_b.alliance):
        assert not tenant_b.organization.memberships.exclude(user=tenant_b.member).exists()


def test_new_row_gets_the_staff_users_alliance(staff_client, tenant_a):
    response = staff_client.post(
        reverse("admin:members_organization_add"),
        {
            "alliance": tenant_a.alliance.pk,
            "name": "New member hospital",
            "kind": "hospital",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert Organization.objects.get(name="New member hospital").alliance == tenant_a.alliance


def test_alliance_and_user_admins_are_for_superusers_only(staff_client):
    assert staff_client.get(reverse("admin:alliance_alliance_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:members_user_changelist")).status_code == 403


def test_superuser_sees_every_alliance_and_can_filter(client, tenant_a, tenant_b, totp_for):
    from tests.factories import UserFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    totp_for(superuser)
    client.force_login(superuser)
    page = client.get(reverse("admin:members_organization_changelist")).content.decode()
    assert tenant_a.organization.name in page
    assert tenant_b.organization.name in page
    assert "alliance__id__exact" in page  # the alliance list filter


def test_admin_password_change_goes_through_allauth(staff_client):
    response = staff_client.get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_change_password")
