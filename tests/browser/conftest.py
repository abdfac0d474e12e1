"""Fixtures for the browser checks: the system Chromium through Playwright,
a signed-in member, and the axe-core and Nu HTML Checker helpers."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import make_tenant
from tests.factories.members import PASSWORD

from . import tools
from .checks import ConsoleWatch, axe_violations, log_in, reauthenticate, vnu_errors

TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def chromium_path() -> str:
    return tools.chromium()


@pytest.fixture(scope="package")
def browser(chromium_path):
    # Playwright's sync API keeps an event loop running in the main thread;
    # Django would refuse database calls from it. Restored afterwards, because
    # the rest of the suite should keep Django's guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, args=tools.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _context(browser, **options):
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def console():
    return ConsoleWatch()


@pytest.fixture
def page(browser, live_server, console):
    """A page as a person gets it: the portal's CSP enforced, console watched."""
    context = _context(browser, base_url=live_server.url)
    yield console.attach(context.new_page())
    context.close()


@pytest.fixture
def member(transactional_db):
    """A CEO of alliance "alpha", with an alliance description to render."""
    tenant = make_tenant("alpha")
    tenant.alliance.description = "A network of health care CEOs.\n\nMeets ten times a year."
    tenant.alliance.save()
    return tenant


@pytest.fixture
def audit_page(browser, live_server):
    """`audit_page()`: a new page in its own context that bypasses CSP, so that
    axe-core can be injected (it is an inline script, which the CSP blocks)."""
    contexts = []

    def new_page():
        contexts.append(_context(browser, base_url=live_server.url, bypass_csp=True))
        return contexts[-1].new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def anonymous_audit_page(audit_page):
    return audit_page()


@pytest.fixture
def member_audit_page(audit_page, member):
    """An audit page signed in as the member through the real login form, and
    reauthenticated, so that the crawl also reaches the two-factor set-up pages
    (allauth asks for the password again before those)."""
    page = audit_page()
    log_in(page, member.member.email, PASSWORD)
    reauthenticate(page, PASSWORD)
    return page


@pytest.fixture(scope="package")
def axe():
    """`axe(page)`: the WCAG 2.0/2.1 A and AA violations on the page, one line each."""
    axe_js = tools.axe_js()
    return lambda page: axe_violations(page, axe_js)


@pytest.fixture(scope="package")
def vnu():
    """`vnu({name: raw_html})`: the Nu HTML Checker's errors, one Java run for all."""
    java, jar = tools.java(), tools.vnu_jar()
    return lambda documents: vnu_errors(documents, java=java, jar=jar)


def pytest_terminal_summary(terminalreporter):
    """Make a skipped browser check impossible to miss at the end of the run."""
    here = Path(__file__).parent
    root = terminalreporter.config.rootpath
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if here in (root / report.nodeid.split("::")[0]).resolve().parents
    ]
    if not skipped:
        return
    reasons = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons.setdefault(reason.removeprefix("Skipped: "), []).append(report.nodeid)
    write = terminalreporter.write_line
    terminalreporter.write_sep("!", "BROWSER CHECKS SKIPPED", red=True, bold=True)
    for reason, nodeids in reasons.items():
        write(
            f"BROWSER CHECKS SKIPPED: {len(nodeids)} test(s) did not run because {reason}",
            red=True,
            bold=True,
        )
        for nodeid in nodeids:
            write(f"    {nodeid}")
    write(
        "The accessibility, HTML and browser gates did NOT pass here: they did not run. "
        "In CI (CI=true) a missing tool fails them instead.",
        red=True,
        bold=True,
    )
    terminalreporter.write_sep("!", red=True, bold=True)
