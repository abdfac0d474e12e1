"""Form fuzzing: every form the crawler finds, posted with hostile values.

Unicode, NUL bytes, 10 MB strings, impossible dates and numbers: never a
server error. Forms are discovered by crawling, so new forms are covered.
"""

import pytest

from tests.guardrails.crawl import crawl
from tests.guardrails.fuzz import server_errors

pytestmark = pytest.mark.django_db

# Posting these would end the session the crawl depends on.
SKIP_ACTIONS = ("/accounts/logout/",)


def post_forms(pages):
    seen, forms = set(), []
    for page in pages.values():
        for form in page.forms:
            key = (form.action, tuple(sorted(form.fields)))
            if form.method == "post" and form.action not in SKIP_ACTIONS and key not in seen:
                seen.add(key)
                forms.append(form)
    return forms


def fuzz_all(client, forms, examples=25):
    assert forms, "the crawl found no forms to fuzz"
    return [p for form in forms for p in server_errors(client, form, examples=examples)]


def test_anonymous_forms(client, tenant_a):
    pages = crawl(client, ["/accounts/login/", "/accounts/password/reset/"])
    assert fuzz_all(client, post_forms(pages)) == []


def test_member_forms(client, tenant_a):
    client.force_login(tenant_a.member)
    pages = crawl(client, ["/", f"/{tenant_a.alliance.slug}/", "/accounts/email/"])
    assert fuzz_all(client, post_forms(pages)) == []


def test_admin_add_forms(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    pages = crawl(client, ["/admin/"], include_admin=True)
    forms = [f for f in post_forms(pages) if f.action.endswith("/add/")]
    # Many admin forms, each re-rendered with its choices: fewer examples apiece.
    assert fuzz_all(client, forms, examples=8) == []
