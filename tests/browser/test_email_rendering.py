"""HTML emails in Chromium at a phone's and a desktop mail pane's width, and
the one-click unsubscribe pages with axe-core and the Nu HTML Checker.

An email passes when, at 375 and 800 px, nothing is wider than the viewport
(no sideways scrolling) and no script runs: the message is served with
`script-src 'none'`, so an inline script or `on…` handler is blocked and
reported as a CSP violation, and the HTML itself must hold none. Chromium is
stricter about layout than it is forgiving: a mail client that drops our
`max-width` still gets tables that are width="100%".
"""

import base64
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django_scopes import scope
from playwright.sync_api import expect

from alliance.models import Alliance
from alliance.notifications import jinja
from alliance.notifications.unsubscribe import unsubscribe_url
from members.models import DigestPreference, Membership
from tests.test_pages import PNG

from .checks import ConsoleWatch

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (375, 800)
REPO = Path(__file__).resolve().parents[2]
EMAIL_URL = "https://mail.invalid/message.html"
SITE = "https://portal.example.org"
# What a mail client shows for the attached logo (cid:logo).
LOGO_DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()

# Where the project's email templates live; "_subject.txt"/".txt" are not HTML.
EMAIL_TEMPLATE_GLOBS = [
    "alliance/templates/**/email/**/*.html",
    "members/templates/members/email/**/*.html",
    "roundtables/templates/roundtables/email/**/*.html",
    "sessions/templates/meetings/email/**/*.html",
    "workgroups/templates/workgroups/email/**/*.html",
]

SAMPLE = """{% extends "email/base.html" %}
{% block title %}Your monthly progress digest{% endblock %}
{% block preheader %}Workforce safety: 18% fewer injuries than at baseline{% endblock %}
{% block content %}
<p style="margin:0 0 16px;">Dear Ada,</p>
<p style="margin:0 0 16px;">Here is what changed since your last digest.</p>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
  style="width:100%;border-collapse:collapse;margin:0 0 16px;">
<tr><th align="left" style="padding:4px 8px 4px 0;font-size:14px;">Aim</th>
<th align="right" style="padding:4px 0;font-size:14px;">Pooled</th>
<th align="right" style="padding:4px 0 4px 8px;font-size:14px;">Yours</th></tr>
<tr><td style="padding:4px 8px 4px 0;">
Reduce the aggregate OSHA recordable injury and DART rates by 25%</td>
<td align="right" style="padding:4px 0;">3.41</td>
<td align="right" style="padding:4px 0 4px 8px;">2.97</td></tr>
<tr><td colspan="3" style="padding:0 0 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
  style="width:100%;background:#e4e7eb;border-radius:3px;"><tr>
<td width="72%"
  style="width:72%;background:#1d4f91;height:10px;font-size:0;line-height:0;border-radius:3px;"
  >&nbsp;</td>
<td style="font-size:0;line-height:0;">&nbsp;</td></tr></table>
</td></tr>
</table>
<p style="margin:0 0 16px;">The recording is at
https://portal.example.org/alpha/roundtables/12/recording/a-very-long-unbroken-address-that-a-phone-must-wrap-somewhere-0123456789</p>
<p style="margin:0;"><a href="https://portal.example.org/alpha/"
  style="display:inline-block;background:#1d4f91;color:#ffffff;padding:12px 20px;
  border-radius:4px;text-decoration:none;">Open the alliance</a></p>
{% endblock %}"""

# Each promise the sample makes, shown broken, and what the browser must say about it.
PLANTED = {
    "a fixed 900 px table": (
        '{% extends "email/base.html" %}{% block content %}'
        '<table width="900" style="width:900px;"><tr><td>wide</td></tr></table>{% endblock %}',
        "px the email is",
    ),
    "an inline script": (
        '{% extends "email/base.html" %}{% block content %}'
        "<script>document.title = 'ran';</script><p>hello</p>{% endblock %}",
        "px: script-src-elem inline",
    ),
    "an event handler": (
        '{% extends "email/base.html" %}{% block content %}'
        '<img src="https://portal.example.org/x.png" alt="" onload="document.title=1">'
        "{% endblock %}",
        "px: script-src-attr inline",
    ),
}


def sample_alliance(**fields) -> Alliance:
    # Unsaved: the frame needs only attributes, and a light colour to force black text.
    defaults = {
        "name": "Northern Health Care Leadership Alliance for Safety and Quality",
        "short_name": "Northern Alliance",
        "slug": "northern",
        "brand_colour": "#f5c518",
        "contact_email": "help@northern.example",
    }
    return Alliance(**defaults | fields)


def email_context(alliance: Alliance) -> dict:
    return {
        "alliance": alliance,
        "SITE_BASE_URL": SITE,
        "PORTAL_NAME": "Alliance portal",
        "logo_cid": "logo",
        "preferences_url": f"{SITE}/{alliance.slug}/members/preferences/",
        "unsubscribe_url": f"{SITE}/unsubscribe/a-signed-token/",
        "unsubscribe_label": "progress digests",
    }


class Blank:
    """Whatever an email template asks for that the minimal context lacks: empty."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return Blank()

    def __getitem__(self, key):
        return Blank()

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __str__(self):
        return ""


class Lenient(dict):
    """A context in which any missing name is a Blank (True, False, None stay literals)."""

    def __contains__(self, key):
        return key not in ("True", "False", "None")

    def __missing__(self, key):
        return Blank()


def render_source(source: str, context: dict) -> str:
    return engines["django"].from_string(source).render(context)


def render_email(template: str, context) -> str:
    """A Django email template, or a Jinja2 one (`*.jinja.html`, rendered in bulk:
    alliance/notifications/jinja.py) in the email frame: its blocks (title,
    preheader, content) where it has them, else the whole of it as the content."""
    if ".jinja." not in template:
        return render_to_string(template, context)
    parts = jinja.render_blocks(template, dict(context)) or {
        "content": jinja.render(template, dict(context))
    }
    # The parts are escaped already, as in reminders.render_reminder.
    safe = {name: mark_safe(part) for name, part in parts.items()}  # noqa: S308
    return render_to_string("notifications/email/frame.html", {**context, **safe})


def as_client_shows(html: str) -> str:
    return html.replace('src="cid:logo"', f'src="{LOGO_DATA_URL}"')


# The check
# ------------------------------------------------------------------------------

SCRIPT_IN_HTML = re.compile(r"<script\b|\son[a-z]+\s*=|javascript:", re.IGNORECASE)
WATCH_JS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


def email_problems(browser, html: str, widths=WIDTHS) -> list[str]:
    """What is wrong with an HTML email as Chromium shows it; one line each."""
    problems = [f"the HTML holds a script: {m.group(0)!r}" for m in SCRIPT_IN_HTML.finditer(html)]
    for width in widths:
        context = browser.new_context(viewport={"width": width, "height": 800})
        try:
            page = context.new_page()
            watch = ConsoleWatch()
            watch.attach(page)
            page.add_init_script(WATCH_JS)
            context.route("**/*", lambda route: _serve(route, html))
            page.goto(EMAIL_URL)
            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll_width > inner_width:
                problems.append(f"at {width} px the email is {scroll_width} px wide")
            problems += [f"at {width} px: {v}" for v in page.evaluate("window.__violations")]
            problems += [f"at {width} px: {p}" for p in watch.problems]
            if page.title() != _title(html):
                problems.append(f"at {width} px a script changed the title to {page.title()!r}")
        finally:
            context.close()
    return problems


def _serve(route, html: str) -> None:
    # The email itself, and for every image it loads (remote or not) a tiny PNG:
    # nothing leaves the machine, and a missing image is not a layout problem.
    if route.request.url == EMAIL_URL:
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "script-src 'none'; object-src 'none'"},
            body=html,
        )
    else:
        route.fulfill(status=200, content_type="image/png", body=PNG)


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    return " ".join(found.group(1).split()) if found else ""


# The frame (templates/email/base.html) and every email template
# ------------------------------------------------------------------------------


def test_the_frame_with_sample_content_fits_and_runs_nothing(browser):
    html = as_client_shows(render_source(SAMPLE, email_context(sample_alliance())))
    assert email_problems(browser, html) == []


def test_the_frame_shows_the_brand_logo_and_links(browser):
    alliance = sample_alliance()
    html = as_client_shows(render_source(SAMPLE, email_context(alliance)))
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        context.route("**/*", lambda route: _serve(route, html))
        page.goto(EMAIL_URL)
        header = page.locator("table table td").first
        expect(header).to_have_css("background-color", "rgb(245, 197, 24)")
        # A light brand colour gets black text (contrast), on the name's link too.
        name = header.get_by_role("link", name=alliance.name)
        expect(name).to_have_css("color", "rgb(0, 0, 0)")
        expect(name).to_have_attribute("href", f"{SITE}/northern/")
        expect(header.locator("img")).to_be_visible()
        expect(page.get_by_role("link", name="Choose which emails you get")).to_have_attribute(
            "href", f"{SITE}/northern/members/preferences/"
        )
        expect(
            page.get_by_role("link", name="Unsubscribe from progress digests")
        ).to_have_attribute("href", f"{SITE}/unsubscribe/a-signed-token/")
    finally:
        context.close()
    dark = render_source(SAMPLE, email_context(sample_alliance(brand_colour="#1d4f91")))
    assert "color:#ffffff" in dark
    # No logo given, no image; no unsubscribe link for mail that is not bulk.
    plain = render_source(
        SAMPLE, {**email_context(alliance), "logo_cid": "", "unsubscribe_url": ""}
    )
    assert "<img" not in plain and "Unsubscribe" not in plain


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_check_catches_a_planted_defect(browser, name):
    source, expected = PLANTED[name]
    html = as_client_shows(render_source(source, email_context(sample_alliance())))
    problems = email_problems(browser, html)
    # At both widths, from the browser itself (not only the scan of the HTML).
    assert [width for width in WIDTHS if f"at {width} {expected}" in "\n".join(problems)] == list(
        WIDTHS
    ), problems


def project_email_templates() -> list[str]:
    names = set()
    for pattern in EMAIL_TEMPLATE_GLOBS:
        for path in REPO.glob(pattern):
            parts = path.relative_to(REPO).parts
            names.add("/".join(parts[parts.index("templates") + 1 :]))
    return sorted(names)


@pytest.mark.parametrize("template", project_email_templates())
def test_each_email_template_fits_and_runs_nothing(browser, template):
    """With the minimal context every email has (alliance, links); other names
    render empty (first as Django leaves them, else as Blanks), which is enough
    to see the layout."""
    context = email_context(sample_alliance())
    try:
        html = render_email(template, context)
    except Exception:
        try:
            html = render_email(template, Lenient(context))
        except Exception as error:
            # Optional coverage: an email that needs its own objects is its own tests' job.
            reason = f"{type(error).__name__}: {str(error).split(' in [', 1)[0][:200]}"
            message = f"{template} needs more than the minimal context ({reason})"
            if os.environ.get("CI"):
                # No skipped gate passes in CI: give the template what it needs here.
                pytest.fail(message)
            pytest.skip(message)
    assert email_problems(browser, as_client_shows(html)) == []


# The unsubscribe pages a member reaches from an email
# ------------------------------------------------------------------------------


def unsubscribe_path(member, what="digest") -> str:
    return urlsplit(unsubscribe_url(member.membership, what)).path


def test_the_unsubscribe_button_works_in_a_browser(page, console, live_server, member):
    page.goto(unsubscribe_path(member))
    expect(page.get_by_role("heading", level=1)).to_contain_text(member.alliance.name)
    with page.expect_navigation():
        page.get_by_role("button", name="Unsubscribe from progress digests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    with scope(alliance=member.alliance):
        assert Membership.objects.get(pk=member.membership.pk).digest == DigestPreference.OFF
    assert console.problems == []


def test_the_unsubscribe_pages_are_valid_and_accessible(
    anonymous_audit_page, live_server, member, axe, vnu
):
    page, base = anonymous_audit_page, live_server.url
    path = unsubscribe_path(member, "reminders")
    tampered = path[:-2] + "x/"
    # The raw HTML for the Nu checker, before anything changes.
    documents = {
        "unsubscribe: confirm": page.request.get(base + path).text(),
        "unsubscribe: not valid": page.request.get(base + tampered).text(),
    }
    problems = []
    assert page.goto(base + tampered).status == 404
    problems += axe(page)
    page.goto(base + path)
    problems += axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Unsubscribe from meeting and roundtable reminders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    problems += axe(page)
    documents["unsubscribe: done"] = page.request.post(base + path).text()
    problems += vnu(documents)
    assert problems == []
