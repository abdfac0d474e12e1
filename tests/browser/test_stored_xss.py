"""Stored XSS (QUALITY.md, Bad input): a script in every text field of an
alliance's rows, then every page a member reaches and every staff admin page,
and both parts of every email the portal then sends, opened in Chromium.

The pages are opened with the CSP *bypassed*: the CSP would block an inline
script anyway, and what is under test here is that nothing is rendered
unescaped in the first place. A payload that runs calls `__xss()`, which the
page defines before any of its own scripts.
"""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance.models import OutgoingEmail
from alliance.notifications.content import content_of
from alliance.notifications.reminders import reminders_dispatch
from members.models import User
from tests.guardrails.snapshot import tenant_models

from .checks import crawl
from .test_pages import member_start_pages

pytestmark = pytest.mark.django_db(transaction=True)

# Longest first; each field gets the longest that fits.
PAYLOADS = (
    '"><script>__xss()</script><img src=x onerror=__xss()>',
    "<img src=x onerror=__xss()>",
    "<svg onload=__xss()>",
)
HOOK = "window.__xssRan = false; window.__xss = () => { window.__xssRan = true; };"
# Fields whose values must keep a format, or that no page shows as text.
_FORMATTED = (models.SlugField, models.EmailField, models.URLField)


def _plant(queryset, model) -> int:
    fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not isinstance(f, _FORMATTED)
        and not f.choices
        and f.name not in ("password", "time_zone", "brand_colour", "brand_text_colour")
    ]
    values = {}
    for field in fields:
        payload = next((p for p in PAYLOADS if len(p) <= (field.max_length or 10_000)), None)
        if payload is not None:
            values[field.name] = payload
    return queryset.update(**values) if values else 0


@pytest.fixture
def poisoned(member):
    """Alliance "alpha" with a script in every text field of every row it owns,
    its users' names included (a `QuerySet.update()`: no signal, so no cache)."""
    alliance = member.alliance
    _plant(type(alliance).objects.filter(pk=alliance.pk), type(alliance))
    with scope(alliance=alliance):
        for model in tenant_models():
            # The outbox holds rendered mail, not input: what it gets is checked
            # below by rendering new mail from the poisoned rows.
            if model is not OutgoingEmail:
                _plant(model._default_manager.all(), model)
    _plant(User.objects.filter(memberships__alliance=alliance), User)
    return member


def _ran(page) -> bool:
    return page.evaluate("window.__xssRan === true")


def _new_page(browser, live_server, user=None):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.add_init_script(HOOK)
    if user is not None:
        client = Client()
        client.force_login(user)
        name = settings.SESSION_COOKIE_NAME
        context.add_cookies(
            [{"name": name, "value": client.cookies[name].value, "url": live_server.url}]
        )
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return context, page, dialogs


def test_no_stored_script_runs_on_any_member_page(browser, live_server, poisoned):
    context, page, dialogs = _new_page(browser, live_server, poisoned.member)
    ran = []
    run = crawl(
        page,
        live_server.url,
        member_start_pages(poisoned.alliance.slug),
        on_page=lambda p: ran.append(p.url) if _ran(p) else None,
    )
    context.close()
    assert len(run.pages) >= 15, [p.url for p in run.pages]
    assert not ran and not dialogs, f"a stored script ran on {ran}"
    assert not run.problems, run.problems


def test_no_stored_script_runs_in_the_staff_admin(browser, live_server, poisoned, totp_for):
    totp_for(poisoned.staff)
    context, page, dialogs = _new_page(browser, live_server, poisoned.staff)
    admin = f"/{settings.ADMIN_URL}"
    # The admin's index, each changelist and the first row's change page of each.
    page.goto(live_server.url + admin)
    changelists = sorted(
        set(
            page.eval_on_selector_all(
                "#content-main a[href$='/']", "links => links.map(a => a.pathname)"
            )
        )
        - {admin}
    )
    visited, ran = [], []
    for changelist in changelists:
        page.goto(live_server.url + changelist)
        visited.append(changelist)
        if _ran(page):
            ran.append(changelist)
        first = page.query_selector("#result_list tbody tr th a, #result_list tbody tr td a")
        if first is not None:
            change = first.get_attribute("href")
            page.goto(live_server.url + change)
            visited.append(change)
            if _ran(page):
                ran.append(change)
    context.close()
    assert len(changelists) >= 15, changelists
    assert not ran and not dialogs, f"a stored script ran on {ran}"


def test_no_stored_script_runs_in_any_email(browser, live_server, poisoned):
    """Both parts of each message the portal then sends: reminders, RSVP nudges,
    digests. The text part is shown as text, as mail clients do."""
    alliance = poisoned.alliance
    with scope(alliance=alliance):
        reminders_dispatch(alliance=alliance, now=timezone.now())
    call_command("send_digests", "--now", "--alliance", alliance.slug)
    with scopes_disabled():
        messages = list(OutgoingEmail.objects.filter(alliance=alliance))
    kinds = {message.kind for message in messages}
    assert {"digest"} <= kinds, kinds
    context, page, dialogs = _new_page(browser, live_server)
    ran = []
    for message in messages:
        content = content_of(message)
        page.set_content(content.html)
        if _ran(page):
            ran.append(f"{message.kind} (HTML)")
        # As a mail client shows the plain part: text/plain, never parsed as HTML.
        page.goto("data:text/plain;charset=utf-8," + quote(content.text))
        if _ran(page):
            ran.append(f"{message.kind} (text)")
    context.close()
    assert not ran and not dialogs, f"a stored script ran in {ran}"
