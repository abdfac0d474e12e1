"""A crawler for the Django test client: follows every same-site link."""

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from django.conf import settings
from django.core import mail
from django.urls import Resolver404, resolve

from .canaries import leaks
from .headers import header_problems
from .matrix import TENANT_ROUTES

SKIP_PREFIXES = (settings.STATIC_URL,)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> default value
    hidden: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    url: str
    status: int
    content_type: str
    text: str
    headers: dict
    route: str | None
    links: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")


class _Parser(HTMLParser):
    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.links, self.forms = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (tag == "a" and attrs.get("href")) or (tag == "img" and attrs.get("src")):
            self.links.append(urljoin(self.page_url, attrs.get("href") or attrs["src"]))
        elif tag == "form":
            action = urljoin(self.page_url, attrs.get("action") or self.page_url)
            self.forms.append(Form(action=action, method=(attrs.get("method") or "get").lower()))
        elif tag in ("input", "textarea", "select") and self.forms and attrs.get("name"):
            form = self.forms[-1]
            if attrs.get("type") == "hidden":
                form.hidden[attrs["name"]] = attrs.get("value") or ""
            elif attrs.get("type") not in ("submit", "button", "reset", "image"):
                form.fields[attrs["name"]] = attrs.get("value") or ""


def _local_path(url: str) -> str | None:
    parts = urlsplit(urldefrag(url)[0])
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    # The admin's sort and filter links multiply one page many times over.
    query = "" if parts.path.startswith("/" + settings.ADMIN_URL) else parts.query
    path = parts.path + (f"?{query}" if query else "")
    return path if path.startswith("/") else None


def _route_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


class CrawlLimitReached(AssertionError):
    pass


def crawl(client, start_urls, *, limit=400, include_admin=False) -> dict[str, Page]:
    """GET every page reachable from `start_urls`; return them by URL."""
    pages: dict[str, Page] = {}
    queue = deque(start_urls)

    def wanted(url) -> str | None:
        path = _local_path(url)
        if path is None or path in pages or path.startswith(SKIP_PREFIXES):
            return None
        if not include_admin and path.startswith("/" + settings.ADMIN_URL):
            return None
        return path

    while queue and len(pages) < limit:
        path = wanted(queue.popleft())
        if path is None:
            continue
        response = client.get(path)
        content_type = response.get("Content-Type", "")
        textual = content_type.startswith(("text/", "application/json"))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        page = Page(
            url=path,
            status=response.status_code,
            content_type=content_type,
            text=body.decode(response.charset or "utf-8", "replace") if textual else "",
            headers=dict(response.headers),
            route=_route_name(path),
        )
        pages[path] = page
        if response.status_code in (301, 302, 303, 307, 308):
            queue.append(urljoin(path, response["Location"]))
        elif page.is_html:
            parser = _Parser(path)
            parser.feed(page.text)
            page.links, page.forms = parser.links, parser.forms
            queue.extend(parser.links)
    if any(wanted(url) for url in queue):
        # A partial crawl would pass silently: make the limit visible instead.
        raise CrawlLimitReached(f"more than {limit} pages; raise the limit")
    return pages


def crawl_problems(pages, canaries) -> list[str]:
    problems = []
    for page in pages.values():
        if page.status >= 500:
            problems.append(f"{page.url} answered {page.status}")
        if found := leaks(page.text, canaries):
            problems.append(f"{page.url} shows the other alliance's {found}")
        if page.is_html:
            problems += [f"{page.url}: {p}" for p in header_problems(page.headers, page.text)]
    for message in mail.outbox:
        bodies = [message.subject, message.body] + [c for c, _ in message.alternatives]
        if found := leaks("\n".join(bodies), canaries):
            problems.append(f"email {message.subject!r} shows {found}")
    return problems


def unreached_routes(pages, routes=None) -> set[str]:
    """Routes the matrix calls linked that no crawled page resolved to."""
    routes = TENANT_ROUTES if routes is None else routes
    expected = {name for name, route in routes.items() if route.linked}
    return expected - {page.route for page in pages.values()}
