"""Resources: documents by program year, downloads for members only, managed in the admin."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from alliance.models import Publication, Resource
from members.services import staff_group_sync
from tests.factories import ProgramYearFactory, ResourceFactory
from tests.factories.content import PDF_BYTES

pytestmark = pytest.mark.django_db


def resources_url(tenant) -> str:
    return reverse("resources:list", args=[tenant.alliance.slug])


def file_url(tenant, resource) -> str:
    return reverse("resources:file", args=[tenant.alliance.slug, resource.pk])


@pytest.fixture
def member_client(client, tenant_a):
    client.force_login(tenant_a.member)
    return client


ADMIN_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("resource", "publication")
    for action in ("view", "add", "change", "delete")
]


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def year(tenant, start: int, name: str):
    return ProgramYearFactory(
        alliance=tenant.alliance,
        name=name,
        starts_on=datetime.date(start, 10, 1),
        ends_on=datetime.date(start + 1, 9, 30),
    )


def test_current_year_first_then_every_year_then_past_years(member_client, tenant_a):
    # The fixture's program year (Oct 2020 – Sep 2021) is the latest that started.
    older, old = year(tenant_a, 2018, "2018–2019"), year(tenant_a, 2019, "2019–2020")
    ResourceFactory(alliance=tenant_a.alliance, program_year=None, title="Charter")
    ResourceFactory(alliance=tenant_a.alliance, program_year=older, title="Prospectus 2018")
    ResourceFactory(alliance=tenant_a.alliance, program_year=old, title="Prospectus 2019")
    page = member_client.get(resources_url(tenant_a)).content.decode()
    titles = [tenant_a.resource.title, "Charter", "Prospectus 2019", "Prospectus 2018"]
    assert sorted(titles, key=page.index) == titles
    headings = [f"Program year {tenant_a.program_year.name}", "All years", "2019–2020", "2018–2019"]
    assert sorted(headings, key=page.index) == headings
    assert "Current" in page


def test_each_entry_shows_its_details(member_client, tenant_a):
    ResourceFactory(
        alliance=tenant_a.alliance,
        program_year=None,
        title="Agenda template",
        kind=Resource.Kind.TEMPLATE,
        description="For the host's improvement example.",
        published_on=datetime.date(2021, 2, 3),
        file=ContentFile(b"a,b\n1,2\n", name="agenda.csv"),
    )
    page = member_client.get(resources_url(tenant_a)).content.decode()
    for text in (
        "Agenda template",
        "Template",
        "For the host&#x27;s improvement",
        "3 February 2021",
    ):
        assert text in page
    assert "(CSV, 8\xa0bytes)" in page
    assert f"(PDF, {len(PDF_BYTES)}\xa0bytes)" in page
    assert file_url(tenant_a, tenant_a.resource) in page


def test_another_alliances_resources_are_not_listed(member_client, tenant_a, tenant_b):
    page = member_client.get(resources_url(tenant_a)).content.decode()
    assert tenant_b.resource.title not in page


def test_no_resources_yet(member_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        Resource.objects.all().delete()
    page = member_client.get(resources_url(tenant_a)).content.decode()
    assert "No resources yet" in page


def test_a_lost_file_is_shown_as_unavailable(member_client, tenant_a):
    tenant_a.resource.file.storage.delete(tenant_a.resource.file.name)
    response = member_client.get(resources_url(tenant_a))
    assert response.status_code == 200
    assert "The file is not available" in response.content.decode()
    assert member_client.get(file_url(tenant_a, tenant_a.resource)).status_code == 404


class TestDownload:
    def test_a_member_gets_the_bytes_as_an_attachment(self, member_client, tenant_a):
        response = member_client.get(file_url(tenant_a, tenant_a.resource))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Disposition"] == 'attachment; filename="prospectus.pdf"'
        assert "private" in response["Cache-Control"]

    def test_a_member_of_another_alliance_gets_404(self, client, tenant_a, tenant_b):
        client.force_login(tenant_b.member)
        assert client.get(file_url(tenant_a, tenant_a.resource)).status_code == 404
        # Their own alliance's URL with A's id: 404 as well.
        assert client.get(file_url(tenant_b, tenant_a.resource)).status_code == 404

    def test_anonymous_is_sent_to_login(self, client, tenant_a):
        response = client.get(file_url(tenant_a, tenant_a.resource))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_the_storage_path_is_served_by_nothing(self, member_client, tenant_a, settings):
        name = tenant_a.resource.file.name
        assert name.startswith(f"private/{tenant_a.alliance.pk}/resource/")
        for prefix in (settings.MEDIA_URL, "/media/", f"/{tenant_a.alliance.slug}/"):
            assert member_client.get(prefix + name).status_code == 404


class TestAdmin:
    def test_staff_see_their_alliances_resources_and_publications(
        self, staff_client, tenant_a, tenant_b
    ):
        for model, rows in [("resource", "resource"), ("publication", "publication")]:
            page = staff_client.get(reverse(f"admin:alliance_{model}_changelist")).content.decode()
            assert getattr(tenant_a, rows).title in page
            assert getattr(tenant_b, rows).title not in page

    def test_staff_add_a_resource_for_every_year(self, staff_client, tenant_a):
        response = staff_client.post(
            reverse("admin:alliance_resource_add"),
            {
                "alliance": tenant_a.alliance.pk,
                "program_year": "",
                "title": "Code of conduct",
                "kind": Resource.Kind.GUIDE,
                "description": "",
                "published_on": "2021-01-04",
                "file": SimpleUploadedFile("conduct.pdf", PDF_BYTES),
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        with scope(alliance=tenant_a.alliance):
            added = Resource.objects.get(title="Code of conduct")
        assert added.alliance_id == tenant_a.alliance.pk and added.program_year is None

    def test_the_publication_form_offers_only_this_alliances_people(
        self, staff_client, tenant_a, tenant_b
    ):
        page = staff_client.get(reverse("admin:alliance_publication_add")).content.decode()
        assert tenant_a.member.full_name in page and tenant_a.organization.name in page
        assert tenant_b.member.full_name not in page and tenant_b.organization.name not in page

    def test_a_publication_needs_a_link_or_a_file_in_the_admin_too(self, staff_client, tenant_a):
        response = staff_client.post(
            reverse("admin:alliance_publication_add"),
            {
                "alliance": tenant_a.alliance.pk,
                "kind": Publication.Kind.REPORT,
                "title": "No link, no file",
                "published_on": "2021-01-04",
            },
        )
        assert response.status_code == 200
        assert "Give a link or upload a file." in response.content.decode()


def test_the_staff_group_manages_resources_and_publications(db):
    granted = set(staff_group_sync().permissions.values_list("codename", flat=True))
    assert set(ADMIN_PERMISSIONS) <= granted
