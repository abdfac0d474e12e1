from allauth.account.adapter import DefaultAccountAdapter

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
