"""Canary crawl, security headers, safe GETs and the admin sweep.

Alliance B's every text field holds a unique canary. Logged in as A (a member,
then staff with the admin included), the crawler follows every link: no page,
download or email may show a B canary, answer 5xx, lack a security header or
change the database; and every page the matrix calls linked must be reached.
"""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from tests.factories import OrganizationFactory, ParticipationFactory, ReadingFactory
from tests.guardrails.canaries import leaks, plant_canaries
from tests.guardrails.crawl import crawl, crawl_problems, unreached_routes
from tests.guardrails.snapshot import all_rows, tenant_models
from tests.test_pages import PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a, tenant_b):
    """A with a logo (so every page is reachable); B full of canaries."""
    for owner, field in [
        (tenant_a.alliance, "logo"),
        (tenant_a.organization, "logo"),
        (tenant_a.member, "photo"),
    ]:
        getattr(owner, field).save("image.png", SimpleUploadedFile("image.png", PNG))
    return tenant_a, tenant_b, plant_canaries(tenant_b)


def test_member_crawl(client, world):
    a, _, canaries = world
    # A peer in A's own workgroup, whose values members see only blinded.
    peer = OrganizationFactory(alliance=a.alliance, name="Blinded Peer Hospital")
    ParticipationFactory(workgroup=a.workgroup, organization=peer)
    ReadingFactory(alliance=a.alliance, measure=a.measure, organization=peer)
    client.force_login(a.member)
    before = all_rows()
    pages = crawl(client, ["/", f"/{a.alliance.slug}/"])
    assert crawl_problems(pages, canaries) == []
    measure_pages = [p for p in pages.values() if p.route == "workgroups:measure"]
    assert measure_pages, "the crawl reached no measure page"
    assert not [p.url for p in measure_pages if "Blinded Peer Hospital" in p.text]
    assert all_rows() == before, "a GET changed the database"
    assert unreached_routes(pages) == set()


def test_staff_crawl_with_the_admin(client, world, totp_for):
    a, _, canaries = world
    totp_for(a.staff)
    client.force_login(a.staff)
    before = all_rows()
    pages = crawl(client, ["/", f"/{a.alliance.slug}/", "/admin/"], include_admin=True)
    assert any(url.startswith("/admin/members/") for url in pages), "the admin was not crawled"
    assert crawl_problems(pages, canaries) == []
    assert all_rows() == before, "a GET changed the database"


def test_admin_sweep_b_rows_are_unreachable(client, world, totp_for):
    """Every registered admin, as A's staff: B's change and delete URLs are refused."""
    a, b, canaries = world
    totp_for(a.staff)
    client.force_login(a.staff)
    checked = 0
    for model in tenant_models():
        if model not in admin.site._registry:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        with scope(alliance=b.alliance):
            pks = list(model._default_manager.values_list("pk", flat=True))
        for pk in pks:
            for action in ("change", "delete", "history"):
                url = reverse(f"admin:{info[0]}_{info[1]}_{action}", args=[pk])
                response = client.get(url)
                assert response.status_code in (302, 403, 404), url
                assert not leaks(response.content.decode(), canaries), url
                checked += 1
    assert checked, "no B rows were tried"


def test_anonymous_pages(client, world):
    _, _, canaries = world
    pages = crawl(client, ["/accounts/login/", "/accounts/password/reset/"])
    assert {p.status for p in pages.values()} <= {200, 302}
    assert crawl_problems(pages, canaries) == []
