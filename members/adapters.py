import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.utils.html import strip_tags

from alliance.notifications import outbox

INVITATION_SESSION_KEY = "invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Only someone holding a usable invitation may create an account."""
        from .services import InvitationError, invitation_check_usable, invitation_from_token

        token = request.session.get(INVITATION_SESSION_KEY)
        invitation = invitation_from_token(token) if token else None
        if invitation is None:
            return False
        try:
            invitation_check_usable(invitation)
        except InvitationError:
            return False
        return True

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's emails (verification, password reset, codes) go through the outbox.

        Rendered by allauth as usual, then queued as kind "account" with no
        alliance. Each is its own message (a person may ask for several
        resets), hence a random key.
        """
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request)}
            | context,
        )
        if message.content_subtype == "html":
            text_body, html_body = strip_tags(message.body), message.body
        else:
            text_body = message.body
            html_body = next(
                (
                    content
                    for content, mimetype in getattr(message, "alternatives", [])
                    if mimetype == "text/html"
                ),
                "",
            )
        template_name = template_prefix.rsplit("/", 1)[-1][:40]
        outbox.enqueue_rendered(
            kind="account",
            recipient=email,
            subject=message.subject,
            text_body=text_body,
            html_body=html_body,
            key=f"{template_name}:{uuid.uuid4().hex}",
            from_email=message.from_email,
            headers=message.extra_headers,
        )
