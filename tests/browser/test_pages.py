"""Every page a member or a visitor reaches, checked with axe-core and with the
Nu HTML Checker.

A new member page is covered as soon as a page the crawl reaches links to it.
A page nothing links to goes into one of the lists below.
"""

import pytest

from .checks import crawl

pytestmark = pytest.mark.django_db(transaction=True)

# Pages a visitor sees before signing in.
ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/password/reset/"]


def member_start_pages(slug):
    """Where the member's crawl starts; it follows every same-origin link from there."""
    return ["/", f"/{slug}/", "/accounts/reauthenticate/"]


def must_reach(slug):
    """The crawl must reach at least these, or it checks less than it seems to."""
    return [
        "anonymous /accounts/login/",
        "anonymous /accounts/password/reset/",
        "member /",
        f"member /{slug}/",
        f"member /{slug}/help/",
        "member /accounts/email/",
        "member /accounts/password/change/",
        "member /accounts/reauthenticate/",
        "member /accounts/2fa/",
        "member /accounts/2fa/totp/activate/",
        f"member, not found /{slug}/no-such-page/",
    ]


def crawl_all(anonymous_page, member_page, base_url, slug, on_page=None):
    """({"who url": raw HTML}, problems) for the anonymous pages, the member's
    crawl, and the "not found" page a member gets."""
    runs = {
        "anonymous": crawl(
            anonymous_page, base_url, ANONYMOUS_PAGES, follow=False, on_page=on_page
        ),
        "member": crawl(member_page, base_url, member_start_pages(slug), on_page=on_page),
        "member, not found": crawl(
            member_page,
            base_url,
            [f"/{slug}/no-such-page/"],
            follow=False,
            expected_status=404,
            on_page=on_page,
        ),
    }
    documents = {f"{who} {page.url}": page.html for who, run in runs.items() for page in run.pages}
    problems = [f"{who}: {problem}" for who, run in runs.items() for problem in run.problems]
    problems += [
        f"the crawl did not reach {name}" for name in must_reach(slug) if name not in documents
    ]
    return documents, problems


def report(problems, documents):
    checked = "\n".join(f"  {name}" for name in documents)
    return f"{len(problems)} problem(s):\n" + "\n".join(problems) + f"\nPages checked:\n{checked}"


def test_every_page_has_no_axe_violations(
    anonymous_audit_page, member_audit_page, live_server, member, axe
):
    violations = []
    documents, problems = crawl_all(
        anonymous_audit_page,
        member_audit_page,
        live_server.url,
        member.alliance.slug,
        on_page=lambda page: violations.extend(axe(page)),
    )
    problems += violations
    assert problems == [], report(problems, documents)


def test_every_page_is_valid_html(
    anonymous_audit_page, member_audit_page, live_server, member, vnu
):
    documents, problems = crawl_all(
        anonymous_audit_page, member_audit_page, live_server.url, member.alliance.slug
    )
    problems += vnu(documents)
    assert problems == [], report(problems, documents)
