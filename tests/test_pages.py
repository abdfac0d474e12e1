import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "#1d4f91").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


def test_home_lists_only_my_alliances(client, tenant_a, tenant_b):
    MembershipFactory(user=tenant_a.member, alliance=tenant_b.alliance)
    client.force_login(tenant_a.member)
    page = client.get("/").content.decode()
    assert tenant_a.alliance.name in page and tenant_b.alliance.name in page

    client.force_login(tenant_b.member)
    page = client.get("/").content.decode()
    assert tenant_b.alliance.name in page and tenant_a.alliance.name not in page


def test_home_sends_anonymous_visitors_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_alliance_home_shows_program_year_and_branding(client, tenant_a):
    client.force_login(tenant_a.member)
    page = client.get(f"/{tenant_a.alliance.slug}/").content.decode()
    assert tenant_a.program_year.name in page
    assert tenant_a.alliance.brand_colour in page
    assert tenant_a.organization.name in page


def test_logo_is_served_to_members_only(client, tenant_a, tenant_b, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    tenant_a.alliance.logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    tenant_a.alliance.save()
    url = reverse("alliance_logo", args=[tenant_a.alliance.slug])
    client.force_login(tenant_a.member)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    client.force_login(tenant_b.member)
    assert client.get(url).status_code == 404


def test_security_headers_on_html_pages(client, tenant_a):
    client.force_login(tenant_a.member)
    for url in ("/", f"/{tenant_a.alliance.slug}/", "/accounts/email/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        # Scripts are same-origin files; an inline one would need this nonce.
        for tag in re.findall(r"<script[^>]*>", response.content.decode()):
            assert "src=" in tag or 'type="application/json"' in tag, tag
            assert "nonce=" not in tag or f'nonce="{nonce}"' in tag, tag
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


def test_page_has_skip_link_and_landmarks(client, tenant_a):
    client.force_login(tenant_a.member)
    page = client.get(f"/{tenant_a.alliance.slug}/").content.decode()
    assert 'href="#main"' in page and '<main id="main"' in page
    assert '<nav class="navbar' in page and 'lang="en"' in page


def test_alliance_home_shows_notices_and_what_comes_up(client, tenant_a):
    client.force_login(tenant_a.member)
    page = client.get(f"/{tenant_a.alliance.slug}/").content.decode()
    assert tenant_a.notice.title in page
    assert tenant_a.meeting.title in page
