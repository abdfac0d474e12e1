"""Showing an email's HTML to staff (the outbox and the digest preview)."""

from django.http import HttpResponse

# The preview is the email's own HTML, served alone: `sandbox` (without
# allow-scripts) gives it an opaque origin and runs no script, whatever the
# body holds; only inline styles and images render, and only our admin may frame it.
EMAIL_PREVIEW_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def email_preview_response(html: str, attachments: list[dict]) -> HttpResponse:
    """The HTML part as a page; inline images (cid:) become data: URLs a browser can show."""
    for attachment in attachments:
        if attachment.get("cid") and attachment.get("content_base64"):
            data = f"data:{attachment['mimetype']};base64,{attachment['content_base64']}"
            html = html.replace(f"cid:{attachment['cid']}", data)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # Set here, so django-csp and the clickjacking middleware leave them alone.
    response["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
