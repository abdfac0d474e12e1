"""The cross-tenant route matrix and route coverage (QUALITY.md, tenant isolation)."""

import pytest
from django.urls import reverse
from django_scopes import scope

from members.models import Membership, Role
from tests.guardrails.matrix import TENANT_ROUTES, cross_tenant_problems, unlisted_routes
from tests.guardrails.routes import tenant_routes

pytestmark = pytest.mark.django_db


def test_route_coverage():
    """A new URL fails here until it is in the matrix or listed as tenant-free."""
    assert unlisted_routes() == []


def test_every_tenant_route_is_in_the_matrix():
    assert set(tenant_routes()) == set(TENANT_ROUTES)


@pytest.mark.parametrize("role", [Role.CEO, Role.ALLIANCE_STAFF])
def test_a_cannot_reach_b(client, tenant_a, tenant_b, role, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.member if role == Role.CEO else tenant_a.staff)
    assert cross_tenant_problems(client, a=tenant_a, b=tenant_b) == []


def test_anonymous_is_sent_to_login_for_any_slug(client, tenant_a):
    # No difference between an existing and an unknown alliance.
    for slug in (tenant_a.alliance.slug, "no-such-alliance"):
        for name, route in TENANT_ROUTES.items():
            url = reverse(name, kwargs={"alliance_slug": slug, **route.ids(tenant_a)})
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url


def test_member_reaches_every_page_of_own_alliance(client, tenant_a):
    client.force_login(tenant_a.member)
    for name, route in TENANT_ROUTES.items():
        if route.page:
            url = reverse(
                name, kwargs={"alliance_slug": tenant_a.alliance.slug, **route.ids(tenant_a)}
            )
            assert client.get(url).status_code == 200, url


def test_deactivated_membership_loses_access(client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        Membership.objects.filter(pk=tenant_a.membership.pk).update(is_active=False)
    client.force_login(tenant_a.member)
    assert client.get(f"/{tenant_a.alliance.slug}/").status_code == 404
