"""Query budgets: every member page and admin changelist, at small and 10× data.

The count must be within budget and the same at both sizes (no N+1; django-zeal
also raises on an N+1 during any test request). New pages and admins are picked
up from the route matrix and the admin registry.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from alliance.tenancy.middleware import SessionAgeMiddleware
from tests.factories import UserFactory
from tests.guardrails.budgets import (
    ADMIN_CHANGELIST_BUDGET,
    MEMBER_PAGE_BUDGET,
    grow,
    query_count,
)
from tests.guardrails.matrix import TENANT_ROUTES

pytestmark = pytest.mark.django_db


def member_pages(tenant) -> list[str]:
    pages = [reverse("home")]
    for name, route in TENANT_ROUTES.items():
        if route.page:
            kwargs = {"alliance_slug": tenant.alliance.slug, **route.ids(tenant)}
            pages.append(reverse(name, kwargs=kwargs))
    return pages


def changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


@pytest.fixture(autouse=True)
def _staff_activity_written_once(monkeypatch):
    # Staff activity is written to the session at most once a minute (a save:
    # three queries). A budget run can take longer than a minute, so here it is
    # written by the warm-up request only, and the counts stay comparable.
    monkeypatch.setattr(SessionAgeMiddleware, "RECORD_EVERY_SECONDS", 10**9)


def warm_up(client) -> None:
    """Every admin page once before counting: the staff user's first request
    records the activity stamp, and the first visit of a page may fill a cache
    of the process or the session (a CI run once counted a session write on
    the first changelist: 8 queries, then 5). What is compared is a page's
    queries at two sizes, not what its first visit costs."""
    assert client.get(reverse("admin:index")).status_code == 200
    for url in changelists():
        client.get(url)


def counts(client, urls) -> dict[str, tuple[int, int]]:
    return {url: query_count(client, url) for url in urls}


def test_member_pages(client, tenant_a):
    client.force_login(tenant_a.member)
    small = counts(client, member_pages(tenant_a))
    grow(tenant_a, 10)
    large = counts(client, member_pages(tenant_a))
    for url, (status, queries) in small.items():
        assert status == 200, url
        assert queries <= MEMBER_PAGE_BUDGET, f"{url}: {queries} queries"
        assert large[url] == (status, queries), f"{url}: {queries} then {large[url][1]}"


@pytest.mark.parametrize("who", ["superuser", "alliance staff"])
def test_admin_changelists(client, tenant_a, tenant_b, totp_for, who):
    user = UserFactory(is_staff=True, is_superuser=True) if who == "superuser" else tenant_a.staff
    totp_for(user)
    client.force_login(user)
    warm_up(client)
    small = counts(client, changelists())
    grow(tenant_a, 10)
    grow(tenant_b, 10)
    large = counts(client, changelists())
    visible = 0
    for url, (status, queries) in small.items():
        if status == 403:
            continue  # not this user's to see (e.g. alliances, users for staff)
        visible += 1
        assert status == 200, url
        assert queries <= ADMIN_CHANGELIST_BUDGET, f"{url}: {queries} queries"
        assert large[url] == (status, queries), f"{url}: {queries} then {large[url][1]}"
    assert visible


def test_admin_changelists_at_10_and_1000_rows(client, tenant_a, totp_for):
    """Staff's changelists cost the same at 10 and at 1,000 rows of every model
    (past a page: pagination and its count must not add per-row queries)."""
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    warm_up(client)
    grow(tenant_a, 9)
    at_10 = counts(client, changelists())
    grow(tenant_a, 990)
    at_1000 = counts(client, changelists())
    for url, (status, queries) in at_10.items():
        if status == 403:
            continue
        assert status == 200, url
        assert queries <= ADMIN_CHANGELIST_BUDGET, f"{url}: {queries} queries"
        assert at_1000[url] == (status, queries), f"{url}: {queries} then {at_1000[url][1]}"
