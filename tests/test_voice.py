"""The collective voice: list, search and filters, adding and editing, file downloads."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from alliance.models import Publication
from members.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, PublicationFactory
from tests.factories.content import PDF_BYTES

pytestmark = pytest.mark.django_db


def url(name, tenant, **kwargs):
    return reverse(f"voice:{name}", kwargs={"alliance_slug": tenant.alliance.slug, **kwargs})


def publish(tenant, *, authors=(), organizations=(), **kwargs) -> Publication:
    publication = PublicationFactory(alliance=tenant.alliance, **kwargs)
    with scope(alliance=tenant.alliance):
        publication.author_members.add(*authors)
        publication.author_organizations.add(*organizations)
    return publication


def listing(client, tenant, **params) -> str:
    response = client.get(url("list", tenant), params)
    assert response.status_code == 200
    return response.content.decode()


def order_of(page: str, titles) -> list[str]:
    return sorted(titles, key=page.index)


@pytest.fixture
def staff_client(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


@pytest.fixture
def member_client(client, tenant_a):
    client.force_login(tenant_a.member)
    return client


def form_data(**overrides) -> dict:
    data = {
        "kind": Publication.Kind.JOURNAL_ARTICLE,
        "title": "Redesigning the office visit",
        "published_on": "2021-05-04",
        "venue": "NEJM Catalyst",
        "url": "https://catalyst.example.org/office-visit",
        "summary": "What five systems learned.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def publications_of(tenant):
    with scope(alliance=tenant.alliance):
        return list(
            Publication.objects.filter(alliance=tenant.alliance).prefetch_related(
                "author_members", "author_organizations"
            )
        )


class TestList:
    def test_newest_first_with_everything_a_row_shows(self, member_client, tenant_a, tenant_b):
        older = publish(
            tenant_a,
            title="Older op-ed",
            kind=Publication.Kind.TRADITIONAL_MEDIA,
            published_on=datetime.date(2020, 1, 5),
            venue="The Daily Planet",
        )
        newer = publish(tenant_a, title="Newer thread", published_on=datetime.date(2022, 2, 1))
        page = listing(member_client, tenant_a)
        assert order_of(page, [older.title, tenant_a.publication.title, newer.title]) == [
            newer.title,
            tenant_a.publication.title,
            older.title,
        ]
        assert "Traditional media" in page and "The Daily Planet" in page
        assert f'href="{older.url}" rel="noopener"' in page
        # The fixture's report: its authors, organization, workgroup and file.
        assert tenant_a.member.full_name in page
        assert tenant_a.organization.name in page
        assert (
            reverse("workgroups:detail", args=[tenant_a.alliance.slug, tenant_a.workgroup.slug])
            in page
        )
        assert url("file", tenant_a, publication_id=tenant_a.publication.pk) in page
        assert tenant_b.publication.title not in page

    @pytest.mark.parametrize(
        "query", ["heart failure", "circulation weekly", "readmissions fell", "quill", "riverside"]
    )
    def test_search_by_title_venue_summary_and_authors(self, member_client, tenant_a, query):
        riverside = OrganizationFactory(alliance=tenant_a.alliance, name="Riverside Health")
        ada = MembershipFactory(
            alliance=tenant_a.alliance, organization=riverside, user__full_name="Ada Quill"
        )
        wanted = publish(
            tenant_a,
            title="Heart failure together",
            venue="Circulation Weekly",
            summary="Readmissions fell by a third.",
            authors=[ada, tenant_a.membership],
            organizations=[riverside, tenant_a.organization],
        )
        page = listing(member_client, tenant_a, q=query)
        assert wanted.title in page
        assert tenant_a.publication.title not in page
        # Matching two authors still lists the publication once.
        assert page.count(f'id="publication-{wanted.pk}"') == 1
        assert "1 publication matches" in page

    def test_filter_by_kind_workgroup_and_year(self, member_client, tenant_a):
        article = publish(
            tenant_a,
            title="An article",
            kind=Publication.Kind.JOURNAL_ARTICLE,
            published_on=datetime.date(2019, 6, 1),
        )
        fixture = tenant_a.publication.title
        page = listing(member_client, tenant_a, kind=Publication.Kind.JOURNAL_ARTICLE)
        assert article.title in page and fixture not in page
        page = listing(member_client, tenant_a, workgroup=tenant_a.workgroup.pk)
        assert fixture in page and article.title not in page
        page = listing(member_client, tenant_a, year=2019)
        assert article.title in page and fixture not in page
        # The year filter offers the years that have publications.
        assert '<option value="2019">2019</option>' in listing(member_client, tenant_a)

    def test_another_alliances_workgroup_is_not_a_filter(self, member_client, tenant_a, tenant_b):
        page = listing(member_client, tenant_a, workgroup=tenant_b.workgroup.pk, year="x")
        assert tenant_b.workgroup.name not in page
        assert tenant_a.publication.title in page  # invalid filters are ignored

    def test_paginated_by_25_keeping_the_filters(self, member_client, tenant_a):
        for number in range(30):
            publish(tenant_a, title=f"Post {number:02}", kind=Publication.Kind.SOCIAL_MEDIA)
        page = listing(member_client, tenant_a, kind=Publication.Kind.SOCIAL_MEDIA)
        assert page.count('class="card"') == 25
        assert "Page 1 of 2" in page
        assert "?kind=social_media&amp;page=2" in page
        second = listing(member_client, tenant_a, kind=Publication.Kind.SOCIAL_MEDIA, page=2)
        assert second.count('class="card"') == 5

    def test_edit_links_only_where_the_viewer_may_edit(self, member_client, tenant_a):
        others = publish(tenant_a, title="By someone else")
        page = listing(member_client, tenant_a)
        assert url("edit", tenant_a, publication_id=tenant_a.publication.pk) in page
        assert url("edit", tenant_a, publication_id=others.pk) not in page
        assert url("add", tenant_a) in page

    def test_staff_may_edit_every_row(self, staff_client, tenant_a):
        others = publish(tenant_a, title="By someone else")
        page = listing(staff_client, tenant_a)
        assert url("edit", tenant_a, publication_id=others.pk) in page


class TestAdd:
    def test_a_member_is_always_among_the_authors(self, member_client, tenant_a):
        colleague = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization
        )
        response = member_client.post(
            url("add", tenant_a),
            form_data(
                author_members=[colleague.pk],
                author_organizations=[tenant_a.organization.pk],
                workgroup=tenant_a.workgroup.pk,
            ),
        )
        assert response.status_code == 302
        assert response["Location"] == url("list", tenant_a)
        [new] = [p for p in publications_of(tenant_a) if p.title == "Redesigning the office visit"]
        assert {m.pk for m in new.author_members.all()} == {colleague.pk, tenant_a.membership.pk}
        assert [o.pk for o in new.author_organizations.all()] == [tenant_a.organization.pk]
        assert new.workgroup_id == tenant_a.workgroup.pk
        assert new.added_by_id == tenant_a.membership.pk
        assert new.kind == Publication.Kind.JOURNAL_ARTICLE

    def test_the_form_offers_the_member_as_author(self, member_client, tenant_a):
        page = member_client.get(url("add", tenant_a)).content.decode()
        assert f'value="{tenant_a.membership.pk}"' in page
        assert "You are always one of them" in page

    def test_staff_add_for_anyone(self, staff_client, tenant_a):
        response = staff_client.post(
            url("add", tenant_a), form_data(author_members=[tenant_a.membership.pk])
        )
        assert response.status_code == 302
        [new] = [p for p in publications_of(tenant_a) if p.title == "Redesigning the office visit"]
        assert [m.pk for m in new.author_members.all()] == [tenant_a.membership.pk]

    def test_a_file_without_a_link(self, member_client, tenant_a):
        upload = SimpleUploadedFile("white-paper.pdf", PDF_BYTES, content_type="application/pdf")
        response = member_client.post(url("add", tenant_a), form_data(url="", file=upload))
        assert response.status_code == 302
        [new] = [p for p in publications_of(tenant_a) if p.title == "Redesigning the office visit"]
        assert new.url == ""
        assert new.file.name.endswith("/white-paper.pdf")
        assert new.file.name.startswith(f"private/{tenant_a.alliance.pk}/")
        download = member_client.get(url("file", tenant_a, publication_id=new.pk))
        assert b"".join(download.streaming_content) == PDF_BYTES

    def test_a_link_or_a_file_is_required(self, member_client, tenant_a):
        before = len(publications_of(tenant_a))
        response = member_client.post(url("add", tenant_a), form_data(url=""))
        assert response.status_code == 200
        assert "Give a link to the publication or upload its file" in response.content.decode()
        assert len(publications_of(tenant_a)) == before

    @pytest.mark.parametrize("name", ["page.html", "script.exe", "no-extension"])
    def test_only_documents_are_accepted(self, member_client, tenant_a, name):
        before = len(publications_of(tenant_a))
        upload = SimpleUploadedFile(name, b"<script>alert(1)</script>", content_type="text/html")
        response = member_client.post(url("add", tenant_a), form_data(url="", file=upload))
        assert response.status_code == 200
        assert "Upload a PDF or an office document" in response.content.decode()
        assert len(publications_of(tenant_a)) == before

    def test_bad_values_get_a_message_per_field(self, member_client, tenant_a):
        response = member_client.post(
            url("add", tenant_a),
            form_data(
                kind="press_release",
                title="a\x00b",
                published_on="2021-02-30",
                url="javascript:alert(1)",
            ),
        )
        errors = response.context["form"].errors
        assert set(errors) >= {"kind", "title", "published_on", "url"}


class TestForeignKeyInjection:
    """A's form posted with B's ids: invalid, and nothing saved anywhere."""

    @pytest.mark.parametrize(
        "field, value",
        [
            ("author_members", lambda b: b.membership.pk),
            ("author_organizations", lambda b: b.organization.pk),
            ("workgroup", lambda b: b.workgroup.pk),
        ],
    )
    @pytest.mark.parametrize("as_staff", [False, True])
    def test_add(self, client, tenant_a, tenant_b, totp_for, field, value, as_staff):
        user = tenant_a.staff if as_staff else tenant_a.member
        totp_for(user)
        client.force_login(user)
        before_a, before_b = publications_of(tenant_a), publications_of(tenant_b)
        response = client.post(url("add", tenant_a), form_data(**{field: value(tenant_b)}))
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert publications_of(tenant_a) == before_a
        assert publications_of(tenant_b) == before_b

    def test_edit(self, member_client, tenant_a, tenant_b):
        response = member_client.post(
            url("edit", tenant_a, publication_id=tenant_a.publication.pk),
            form_data(
                author_members=[tenant_a.membership.pk, tenant_b.membership.pk],
                author_organizations=[tenant_b.organization.pk],
                workgroup=tenant_b.workgroup.pk,
            ),
        )
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {
            "author_members",
            "author_organizations",
            "workgroup",
        }
        with scopes_disabled():  # looking across alliances
            publication = Publication.objects.get(pk=tenant_a.publication.pk)
            assert publication.title == tenant_a.publication.title
            assert {m.alliance_id for m in publication.author_members.all()} == {
                tenant_a.alliance.pk
            }
            assert not Publication.author_members.through.objects.filter(
                publication__alliance=tenant_a.alliance,
                membership__alliance=tenant_b.alliance,
            ).exists()


class TestEdit:
    def test_an_author_edits_and_stays_an_author(self, member_client, tenant_a):
        colleague = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization
        )
        edit = url("edit", tenant_a, publication_id=tenant_a.publication.pk)
        page = member_client.get(edit).content.decode()
        assert tenant_a.publication.title in page
        assert "Current file" in page  # with our download link, not a media URL
        assert "/media-not-served/" not in page
        response = member_client.post(
            edit, form_data(title="Renamed report", author_members=[colleague.pk])
        )
        assert response.status_code == 302
        [publication] = [p for p in publications_of(tenant_a) if p.pk == tenant_a.publication.pk]
        assert publication.title == "Renamed report"
        assert {m.pk for m in publication.author_members.all()} == {
            colleague.pk,
            tenant_a.membership.pk,
        }
        assert publication.file  # not touched

    def test_another_member_may_not(self, client, tenant_a):
        stranger = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization, role=Role.TRUSTEE
        )
        client.force_login(stranger.user)
        edit = url("edit", tenant_a, publication_id=tenant_a.publication.pk)
        assert client.get(edit).status_code == 403
        assert client.post(edit, form_data(title="Defaced")).status_code == 403
        [publication] = [p for p in publications_of(tenant_a) if p.pk == tenant_a.publication.pk]
        assert publication.title == tenant_a.publication.title

    def test_staff_edit_any(self, staff_client, tenant_a):
        others = publish(tenant_a, title="By someone else", authors=[tenant_a.membership])
        response = staff_client.post(
            url("edit", tenant_a, publication_id=others.pk),
            form_data(title="Fixed by staff", author_members=[tenant_a.membership.pk]),
        )
        assert response.status_code == 302
        [publication] = [p for p in publications_of(tenant_a) if p.pk == others.pk]
        assert publication.title == "Fixed by staff"
        # Staff are not added as authors when they edit.
        assert [m.pk for m in publication.author_members.all()] == [tenant_a.membership.pk]

    def test_removing_the_file_needs_a_link(self, member_client, tenant_a):
        edit = url("edit", tenant_a, publication_id=tenant_a.publication.pk)
        with scope(alliance=tenant_a.alliance):
            Publication.objects.filter(pk=tenant_a.publication.pk).update(url="")
        response = member_client.post(edit, form_data(url="", remove_file="on"))
        assert response.status_code == 200
        assert "Give a link to the publication" in response.content.decode()
        response = member_client.post(edit, form_data(remove_file="on"))
        assert response.status_code == 302
        [publication] = [p for p in publications_of(tenant_a) if p.pk == tenant_a.publication.pk]
        assert not publication.file and publication.url

    def test_a_former_member_stays_an_author(self, member_client, tenant_a):
        former = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization, is_active=False
        )
        with scope(alliance=tenant_a.alliance):
            tenant_a.publication.author_members.add(former)
        edit = url("edit", tenant_a, publication_id=tenant_a.publication.pk)
        response = member_client.post(
            edit, form_data(author_members=[former.pk, tenant_a.membership.pk])
        )
        assert response.status_code == 302
        [publication] = [p for p in publications_of(tenant_a) if p.pk == tenant_a.publication.pk]
        assert former in publication.author_members.all()


class TestFile:
    def test_a_member_downloads_it_as_an_attachment(self, member_client, tenant_a):
        response = member_client.get(url("file", tenant_a, publication_id=tenant_a.publication.pk))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Disposition"] == 'attachment; filename="report-alpha.pdf"'
        assert response["Content-Type"] == "application/pdf"
        assert "private" in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_another_alliances_member_gets_404(self, client, tenant_a, tenant_b):
        client.force_login(tenant_b.member)
        for slug in (tenant_a.alliance.slug, tenant_b.alliance.slug):
            path = reverse(
                "voice:file",
                kwargs={"alliance_slug": slug, "publication_id": tenant_a.publication.pk},
            )
            assert client.get(path).status_code == 404

    def test_anonymous_is_sent_to_login(self, client, tenant_a):
        response = client.get(url("file", tenant_a, publication_id=tenant_a.publication.pk))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_no_file_is_404(self, member_client, tenant_a):
        link_only = publish(tenant_a, authors=[tenant_a.membership])
        assert member_client.get(
            url("file", tenant_a, publication_id=link_only.pk)
        ).status_code == (404)

    def test_a_lost_file_is_404_not_an_error(self, member_client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            tenant_a.publication.file.storage.delete(tenant_a.publication.file.name)
        response = member_client.get(url("file", tenant_a, publication_id=tenant_a.publication.pk))
        assert response.status_code == 404

    def test_the_storage_path_is_served_by_nothing(self, member_client, tenant_a):
        name = tenant_a.publication.file.name
        for prefix in ("/media-not-served/", "/media/", f"/{tenant_a.alliance.slug}/"):
            assert member_client.get(prefix + name).status_code == 404


def test_the_workgroup_page_lists_its_publications(member_client, tenant_a, tenant_b):
    article = publish(
        tenant_a,
        title="Safety huddles that work",
        kind=Publication.Kind.JOURNAL_ARTICLE,
        workgroup=tenant_a.workgroup,
        file=ContentFile(PDF_BYTES, name="huddles.pdf"),
    )
    publish(tenant_a, title="Not this workgroup's")
    response = member_client.get(
        reverse("workgroups:detail", args=[tenant_a.alliance.slug, tenant_a.workgroup.slug])
    )
    page = response.content.decode()
    assert "Collective voice" in page
    assert tenant_a.publication.title in page and article.title in page
    assert "Journal article" in page
    assert f'href="{article.url}" rel="noopener"' in page
    assert url("file", tenant_a, publication_id=tenant_a.publication.pk) in page
    assert "Not this workgroup&#x27;s" not in page and "Not this workgroup's" not in page
    assert f"?workgroup={tenant_a.workgroup.pk}" in page
    assert "All 2 publications of this workgroup" in page
