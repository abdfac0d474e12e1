"""Uploads are limited by size and type, refused with a clear message, nothing saved."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from alliance.validators import IMAGE_MAX_BYTES

pytestmark = pytest.mark.django_db


def png(pixels: int = 2) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (pixels, pixels), "#1d4f91").save(buffer, format="PNG")
    return buffer.getvalue()


def tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "#1d4f91").save(buffer, format="TIFF")
    return buffer.getvalue()


def profile(client, tenant, photo):
    url = reverse("members:profile", args=[tenant.alliance.slug])
    data = {"full_name": "Pat Member", "phone": "", "time_zone": "", "title": "", "photo": photo}
    return client.post(url, data)


def test_a_small_png_is_accepted(client, tenant_a):
    client.force_login(tenant_a.member)
    response = profile(client, tenant_a, SimpleUploadedFile("me.png", png(), "image/png"))
    assert response.status_code == 302
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.photo.name.endswith(".png")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        # A real PNG padded past the limit: the size is what is refused.
        (
            lambda: SimpleUploadedFile(
                "big.png", png() + b"\0" * (IMAGE_MAX_BYTES + 1), "image/png"
            ),
            "This image is 2.0 MB; the limit is 2 MB.",
        ),
        (
            lambda: SimpleUploadedFile(
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "image/svg+xml",
            ),
            "Upload a valid image.",
        ),
        (
            lambda: SimpleUploadedFile("me.exe", png(), "application/octet-stream"),
            "is not allowed",  # Django's own extension check on image fields
        ),
        (
            # A real image, but a type that is not for logos and photos.
            lambda: SimpleUploadedFile("me.tiff", tiff(), "image/tiff"),
            "Upload a PNG, JPEG, GIF or WebP image.",
        ),
    ],
    ids=["too large", "svg", "not an image", "tiff"],
)
def test_a_bad_photo_is_refused_with_a_message_and_nothing_saved(client, tenant_a, upload, message):
    client.force_login(tenant_a.member)
    response = profile(client, tenant_a, upload())
    assert response.status_code == 200
    assert message in response.content.decode()
    tenant_a.member.refresh_from_db()
    assert not tenant_a.member.photo
    assert tenant_a.member.full_name != "Pat Member"  # the rest of the form was not saved


def test_an_organization_logo_over_the_limit_is_refused_in_the_admin(
    client, tenant_a, tenant_b, totp_for
):
    from django_scopes import scope

    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    url = reverse("admin:members_organization_change", args=[tenant_a.organization.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: form[name].value()
        for name in form.fields
        if form[name].value() is not None and name != "logo"
    }
    big = SimpleUploadedFile("logo.png", png() + b"\0" * (IMAGE_MAX_BYTES + 1), "image/png")
    response = client.post(url, {**data, "logo": big})
    assert response.status_code == 200
    assert "the limit is 2 MB" in response.content.decode()
    with scope(alliance=tenant_a.alliance):
        tenant_a.organization.refresh_from_db()
    assert not tenant_a.organization.logo
