"""The member directory, organization and person pages, and the profile."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from members.models import Membership, Role, User
from tests.factories import MembershipFactory, OrganizationFactory
from tests.guardrails.budgets import MEMBER_PAGE_BUDGET, query_count
from tests.test_pages import PNG

pytestmark = pytest.mark.django_db


def directory(client, tenant, **params):
    response = client.get(reverse("members:directory", args=[tenant.alliance.slug]), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def people(tenant_a):
    """Three more people in A: two at a second organization."""
    riverside = OrganizationFactory(alliance=tenant_a.alliance, name="Riverside Hospital")
    return {
        "ada": MembershipFactory(
            alliance=tenant_a.alliance,
            organization=riverside,
            role=Role.QUALITY_LEAD,
            user__full_name="Ada Quill",
            title="Chief Quality Officer",
        ),
        "ben": MembershipFactory(
            alliance=tenant_a.alliance,
            organization=riverside,
            role=Role.TRUSTEE,
            user__full_name="Ben Trust",
        ),
        "cy": MembershipFactory(
            alliance=tenant_a.alliance,
            organization=tenant_a.organization,
            role=Role.PHYSICIAN_LEADER,
            user__full_name="Cy Medic",
            title="CMO",
        ),
        "riverside": riverside,
    }


def test_directory_lists_active_members_with_emails(client, tenant_a, tenant_b, people):
    client.force_login(tenant_a.member)
    page = directory(client, tenant_a)
    for name in ("Ada Quill", "Ben Trust", "Cy Medic", tenant_a.member.full_name):
        assert name in page
    assert people["ada"].user.email in page
    assert tenant_b.member.full_name not in page and tenant_b.member.email not in page


def test_search_by_name_title_or_organization(client, tenant_a, people):
    client.force_login(tenant_a.member)
    assert "Ada Quill" in directory(client, tenant_a, q="quill")
    assert "Ben Trust" not in directory(client, tenant_a, q="quill")
    assert "Cy Medic" in directory(client, tenant_a, q="cmo")
    page = directory(client, tenant_a, q="riverside")
    assert "Ada Quill" in page and "Ben Trust" in page and "Cy Medic" not in page


def test_filter_by_role_and_organization(client, tenant_a, people):
    client.force_login(tenant_a.member)
    page = directory(client, tenant_a, role=Role.TRUSTEE)
    assert "Ben Trust" in page and "Ada Quill" not in page
    page = directory(client, tenant_a, organization=people["riverside"].pk)
    assert "Ada Quill" in page and "Cy Medic" not in page


def test_another_alliances_organization_is_not_a_filter(client, tenant_a, tenant_b, people):
    client.force_login(tenant_a.member)
    page = directory(client, tenant_a, organization=tenant_b.organization.pk)
    assert "Select a valid choice" in page
    assert tenant_b.organization.name not in page


def test_deactivated_members_leave_the_directory(client, tenant_a, people):
    with scope(alliance=tenant_a.alliance):
        Membership.objects.filter(pk=people["ben"].pk).update(is_active=False)
    client.force_login(tenant_a.member)
    assert "Ben Trust" not in directory(client, tenant_a)
    url = reverse("members:person", args=[tenant_a.alliance.slug, people["ben"].pk])
    assert client.get(url).status_code == 404
    assert User.objects.get(pk=people["ben"].user_id).full_name == "Ben Trust"


def test_organization_page_lists_its_people(client, tenant_a, people):
    client.force_login(tenant_a.member)
    url = reverse("members:organization", args=[tenant_a.alliance.slug, people["riverside"].pk])
    page = client.get(url).content.decode()
    assert "Riverside Hospital" in page and "Ada Quill" in page and "Ben Trust" in page
    assert "Cy Medic" not in page
    listing = client.get(reverse("members:organizations", args=[tenant_a.alliance.slug]))
    assert "Riverside Hospital" in listing.content.decode()


def test_person_page(client, tenant_a, people):
    client.force_login(tenant_a.member)
    url = reverse("members:person", args=[tenant_a.alliance.slug, people["ada"].pk])
    page = client.get(url).content.decode()
    assert "Ada Quill" in page and "Chief Quality Officer" in page and "Riverside Hospital" in page


class TestProfile:
    def url(self, tenant):
        return reverse("members:profile", args=[tenant.alliance.slug])

    def test_update_name_phone_zone_title_and_photo(self, client, tenant_a, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        client.force_login(tenant_a.member)
        response = client.post(
            self.url(tenant_a),
            {
                "full_name": "Renamed Person",
                "phone": "+1 617 555 0100",
                "time_zone": "Europe/London",
                "title": "President",
                "photo": SimpleUploadedFile("me.png", PNG, content_type="image/png"),
            },
        )
        assert response.status_code == 302
        user = User.objects.get(pk=tenant_a.member.pk)
        assert (user.full_name, user.phone, user.time_zone) == (
            "Renamed Person",
            "+1 617 555 0100",
            "Europe/London",
        )
        assert user.photo
        with scope(alliance=tenant_a.alliance):
            assert Membership.objects.get(pk=tenant_a.membership.pk).title == "President"
        photo = reverse(
            "members:person_photo", args=[tenant_a.alliance.slug, tenant_a.membership.pk]
        )
        assert client.get(photo).status_code == 200

    def test_bad_input_gets_a_message_per_field_and_saves_nothing(self, client, tenant_a):
        client.force_login(tenant_a.member)
        response = client.post(
            self.url(tenant_a),
            {
                "full_name": "",
                "time_zone": "Mars/Olympus",
                "photo": SimpleUploadedFile("me.png", b"not an image", content_type="image/png"),
            },
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "This field is required" in page
        assert "Select a valid choice" in page
        assert "Upload a valid image" in page
        assert User.objects.get(pk=tenant_a.member.pk).full_name == tenant_a.member.full_name


def test_directory_queries_do_not_grow_with_members(client, tenant_a):
    client.force_login(tenant_a.member)
    url = reverse("members:directory", args=[tenant_a.alliance.slug])
    _, small = query_count(client, url)
    organizations = OrganizationFactory.create_batch(10, alliance=tenant_a.alliance)
    users = User.objects.bulk_create(
        User(email=f"bulk{i}@example.org", full_name=f"Bulk {i}") for i in range(1000)
    )
    with scope(alliance=tenant_a.alliance):
        Membership.objects.bulk_create(
            Membership(
                user=u,
                alliance=tenant_a.alliance,
                role=Role.CEO,
                organization=organizations[i % 10],
            )
            for i, u in enumerate(users)
        )
    status, large = query_count(client, url)
    assert status == 200
    assert small == large <= MEMBER_PAGE_BUDGET
    status, with_filters = query_count(
        client, f"{url}?q=bulk&role=ceo&organization={organizations[0].pk}&page=2"
    )
    assert status == 200 and with_filters <= MEMBER_PAGE_BUDGET
