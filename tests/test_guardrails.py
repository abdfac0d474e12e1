"""Each guardrail, shown to catch a deliberately planted defect.

The views in tests/guardrails/planted.py each make one mistake; every test
here runs a real guardrail against one of them and expects it to complain.
"""

import pytest
from zeal.errors import NPlusOneError

from tests.guardrails.budgets import grow, query_count
from tests.guardrails.canaries import plant_canaries
from tests.guardrails.crawl import Form, crawl, crawl_problems, unreached_routes
from tests.guardrails.fuzz import server_errors
from tests.guardrails.headers import header_problems
from tests.guardrails.matrix import TenantRoute, cross_tenant_problems, unlisted_routes
from tests.guardrails.snapshot import all_rows

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.guardrails.planted")]


def url(tenant, name):
    return f"/{tenant.alliance.slug}/planted/{name}/"


def test_route_coverage_reports_a_new_unlisted_url():
    assert any(route.startswith("planted_leak") for route in unlisted_routes())


def test_matrix_catches_a_view_that_ignores_the_tenant(client, tenant_a, tenant_b):
    client.force_login(tenant_a.member)
    routes = {"planted_leak": TenantRoute(ids=lambda t: {"organization_id": t.organization.pk})}
    problems = cross_tenant_problems(client, a=tenant_a, b=tenant_b, routes=routes)
    leak = f"GET /{tenant_a.alliance.slug}/planted/leak/{tenant_b.organization.pk}/ answered 200"
    assert leak in problems


def test_canary_crawl_catches_another_alliances_name(client, tenant_a, tenant_b):
    canaries = plant_canaries(tenant_b)
    client.force_login(tenant_a.member)
    pages = crawl(client, [url(tenant_a, "every-alliance")])
    assert any("shows the other alliance's" in p for p in crawl_problems(pages, canaries))


def test_crawl_reports_a_page_nobody_links_to(client, tenant_a):
    client.force_login(tenant_a.member)
    pages = crawl(client, [f"/{tenant_a.alliance.slug}/"])
    assert unreached_routes(pages, {"planted_orphan": TenantRoute()}) == {"planted_orphan"}


def test_snapshot_catches_a_get_that_writes(client, tenant_a):
    client.force_login(tenant_a.member)
    before = all_rows()
    crawl(client, [url(tenant_a, "write-on-get")])
    assert all_rows() != before


def test_zeal_raises_on_n_plus_one(client, tenant_a):
    grow(tenant_a, 2)
    client.force_login(tenant_a.member)
    with pytest.raises(NPlusOneError):
        client.get(url(tenant_a, "n-plus-one"))


@pytest.mark.filterwarnings("ignore:N\\+1 detected")
def test_query_budget_catches_growth(client, tenant_a, settings):
    settings.ZEAL_RAISE = False  # measure the growth itself
    client.force_login(tenant_a.member)
    _, small = query_count(client, url(tenant_a, "n-plus-one"))
    grow(tenant_a, 10)
    _, large = query_count(client, url(tenant_a, "n-plus-one"))
    assert large > small


def test_header_check_catches_a_page_without_csp(client, tenant_a):
    client.force_login(tenant_a.member)
    response = client.get(url(tenant_a, "without-csp"))
    problems = header_problems(dict(response.headers), response.content.decode())
    assert "no Content-Security-Policy" in problems


def test_header_check_catches_an_inline_script_without_nonce():
    headers = {
        "Content-Security-Policy": "script-src 'self' 'nonce-abc'; frame-ancestors 'none'; "
        "object-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    assert header_problems(headers, "<script nonce='abc'>ok()</script>") != []
    assert header_problems(headers, '<script nonce="abc">ok()</script>') == []
    assert header_problems(headers, "<script>alert(1)</script>") != []


def test_fuzzer_finds_a_crash(client, tenant_a):
    client.force_login(tenant_a.member)
    form = Form(action=url(tenant_a, "crash"), method="post", fields={"seats": "1"})
    problems = server_errors(client, form, examples=20)
    assert problems and "POST" in problems[0]
