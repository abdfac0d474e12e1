"""The checks themselves. Each one RETURNS the problems it found, one line
each, so a test asserts the list is empty and a planted-defect test asserts it
is not."""

import json
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from django.conf import settings
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

# WCAG 2.0 and 2.1, levels A and AA (QUALITY.md, "People's view").
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# Paths the crawl does not follow: the staff admin, files, and anything that
# signs the member out.
CRAWL_SKIP_PREFIXES = (f"/{settings.ADMIN_URL}", settings.STATIC_URL, settings.MEDIA_URL)
CRAWL_SKIP_WORDS = ("logout",)
CRAWL_LIMIT = 60


def where(url: str) -> str:
    """A URL without the live server's random origin, for readable reports."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- Console errors, uncaught exceptions and CSP violations ----------------


class ConsoleWatch:
    """Collects what a person's browser would complain about on a page.

    Chromium reports a CSP violation (a blocked inline script or style, a
    resource from another origin) and a failed resource load as console
    errors; an uncaught exception arrives as a page error.
    """

    def __init__(self):
        self.problems: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        return page

    def _on_console(self, message):
        if message.type == "error":
            self.problems.append(f"console error on {where(message.page.url)}: {message.text}")

    def _on_page_error(self, error):
        self.problems.append(f"uncaught exception: {error}")


# --- axe-core ---------------------------------------------------------------


def axe_violations(page: Page, axe_js: Path, tags: Iterable[str] = AXE_TAGS) -> list[str]:
    """Run axe-core on the page as it is now; one line per violated rule.

    The page's context must be created with `bypass_csp=True`: axe is injected
    as an inline script, which the portal's CSP rightly blocks.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        try:
            page.add_script_tag(path=str(axe_js))
        except PlaywrightError as exc:
            raise RuntimeError(
                "could not inject axe-core: create the page's context with bypass_csp=True"
            ) from exc
    # resultTypes: only violations need their nodes listed (faster).
    results = page.evaluate(
        "tags => axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        list(tags),
    )
    problems = []
    for violation in results["violations"]:
        targets = "; ".join(_axe_target(node["target"]) for node in violation["nodes"])
        problems.append(
            f"{where(page.url)}: axe {violation['id']} ({violation['impact']}): "
            f"{violation['help']} — nodes: {targets} — {violation['helpUrl']}"
        )
    return problems


def _axe_target(target) -> str:
    # A target is a list of selectors; nested lists reach into shadow roots.
    return " >>> ".join(_axe_target(part) if isinstance(part, list) else part for part in target)


# --- The Nu HTML Checker ----------------------------------------------------


def vnu_errors(documents: Mapping[str, str | bytes], *, java: str, jar: Path) -> list[str]:
    """Validate every document (name -> raw HTML) in ONE Java run; one line per error."""
    if not documents:
        return []
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        names = {}
        for number, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"document-{number:03d}.html"
            path.write_bytes(html.encode() if isinstance(html, str) else html)
            names[path.name] = name
        # This JVM lives seconds: the C1 compiler alone halves its run time, but
        # then the checker's schema needs a deeper stack (it asks for 512k at least).
        command = [java, "-Xss16m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar"]
        command += [str(jar), "--errors-only", "--format", "json"]
        command += sorted(str(path) for path in Path(folder).iterdir())
        run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    output = f"{run.stdout}\n{run.stderr}".strip()[-2000:]
    try:
        # vnu writes its JSON report to stderr.
        report = json.loads(run.stderr)
    except ValueError:
        return [f"vnu gave no JSON report (exit {run.returncode}): {output}"]
    problems = []
    for message in report.get("messages", []):
        if message.get("type") == "info":
            continue
        name = names.get(message.get("url", "").rsplit("/", 1)[-1], message.get("url", "?"))
        line = message.get("lastLine", "?")
        column = message.get("firstColumn", message.get("lastColumn", "?"))
        extract = message.get("extract", "").replace("\n", "⏎")
        problems.append(
            f"{name}:{line}:{column}: vnu {message['type']}: {message['message']}"
            + (f" — “{extract}”" if extract else "")
        )
    if run.returncode != 0 and not problems:
        problems.append(f"vnu exited {run.returncode} without a message: {output}")
    return problems


# --- Logging in and crawling ------------------------------------------------


def log_in(page: Page, email: str, password: str) -> None:
    """Sign in through the real login form (the navbar has a submit button too)."""
    page.goto("/accounts/login/")
    form = page.locator("main form")
    form.locator("input[name=login]").fill(email)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name="Sign in").click()


def reauthenticate(page: Page, password: str) -> None:
    """Confirm the password again, as allauth asks before account-security pages."""
    page.goto("/accounts/reauthenticate/")
    form = page.locator("main form")
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name="Confirm").click()


@dataclass
class CrawledPage:
    url: str  # path and query, after redirects
    status: int
    html: str  # the HTTP response body, not the DOM


@dataclass
class Crawl:
    pages: list[CrawledPage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # broken links, server errors
    skipped: list[str] = field(default_factory=list)  # answers that are not HTML


def crawl(
    page: Page,
    base_url: str,
    start: Iterable[str],
    *,
    follow: bool = True,
    expected_status: int = 200,
    on_page: Callable[[Page], None] | None = None,
    limit: int = CRAWL_LIMIT,
) -> Crawl:
    """Visit `start` and, with `follow`, every same-origin <a href> reachable from it.

    Each URL is fetched once with the page's cookies to read the raw response
    (status, type, body), then opened in the page so that `on_page(page)` sees
    the rendered DOM. GET only: a GET never changes state in this portal.
    """
    result = Crawl()
    origin = urlsplit(base_url)[:2]
    queue = deque((path, "(start)") for path in start)
    seen: set[str] = set()
    while queue:
        path, source = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = page.request.get(base_url + path)
        final = where(response.url)
        content_type = response.headers.get("content-type", "")
        if response.status != expected_status:
            result.problems.append(
                f"{path} (linked from {source}) answered {response.status}, "
                f"expected {expected_status}"
            )
            continue
        if not content_type.startswith("text/html"):
            result.skipped.append(f"{path}: {content_type or 'no content type'}")
            continue
        if final != path and final in seen:
            continue
        seen.add(final)
        if len(result.pages) == limit:
            result.problems.append(f"crawl stopped at {limit} pages: raise the limit")
            break
        result.pages.append(CrawledPage(final, response.status, response.text()))
        page.goto(base_url + final)
        if on_page is not None:
            on_page(page)
        if follow:
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                link = _followable(href, origin)
                if link is not None and link not in seen:
                    queue.append((link, final))
    return result


def _followable(href: str, origin: tuple[str, str]) -> str | None:
    href, _fragment = urldefrag(href)
    if urlsplit(href)[:2] != origin:  # mailto:, tel:, other sites
        return None
    path = where(href)
    if path.startswith(CRAWL_SKIP_PREFIXES) or any(word in path for word in CRAWL_SKIP_WORDS):
        return None
    return path
