from allauth.account.signals import user_signed_up
from django.contrib import messages
from django.dispatch import receiver

from .adapters import INVITATION_SESSION_KEY
from .services import InvitationError, invitation_accept, invitation_from_token


@receiver(user_signed_up)
def accept_invitation_after_signup(request, user, **kwargs):
    token = request.session.pop(INVITATION_SESSION_KEY, None)
    invitation = invitation_from_token(token) if token else None
    if invitation is None:
        return
    try:
        membership = invitation_accept(invitation=invitation, user=user)
    except InvitationError as error:
        messages.error(request, error.messages[0])
        return
    if membership is None:
        messages.info(
            request,
            "You signed up with another address than the invitation's: "
            "the alliance staff will confirm your membership.",
        )
    else:
        messages.success(request, f"Welcome to {invitation.alliance.name}.")
