"""Invitations: single-use, expiring, bound to one alliance and one address."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from members import services
from members.models import Invitation, Membership, Role, User
from tests.factories import UserFactory
from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(tenant_a, django_capture_on_commit_callbacks):
    """Invite someone to A as CEO of A's organization; return (invitation, link path)."""

    def make(email="new.ceo@example.org", **kwargs):
        with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant_a.alliance):
            invitation = services.invitation_create(
                alliance=tenant_a.alliance,
                email=email,
                role=Role.CEO,
                invited_by=tenant_a.staff,
                organization=tenant_a.organization,
                full_name="New CEO",
                **kwargs,
            )
        message = mail.outbox[-1]
        link = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body).group(1)
        return invitation, link

    return make


def status_of(invitation):
    with scope(alliance=invitation.alliance):
        invitation.refresh_from_db()
    return invitation.status


def is_member(user, tenant):
    with scope(alliance=tenant.alliance):
        return Membership.objects.filter(
            user=user, alliance=tenant.alliance, is_active=True
        ).exists()


def test_invitation_email_is_multipart_and_names_the_alliance(invite, tenant_a):
    invitation, link = invite()
    message = mail.outbox[-1]
    assert message.to == ["new.ceo@example.org"]
    assert tenant_a.alliance.name in message.subject
    html = message.alternatives[0][0]
    assert link in html and link in message.body
    assert message.reply_to == [tenant_a.alliance.contact_email]
    assert invitation.expires_at - timezone.now() > datetime.timedelta(days=13)
    with scope(alliance=tenant_a.alliance):
        invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert invitation.secret_hash not in link  # only the hash is stored


def test_new_person_signs_up_and_joins(client, invite, tenant_a):
    invitation, link = invite()
    page = client.get(link)
    assert page.status_code == 200 and b"Create my account" in page.content
    response = client.post(link)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/signup/")
    response = client.post(
        response["Location"],
        {
            "email": "new.ceo@example.org",
            "full_name": "Nia Campbell",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.ceo@example.org")
    assert user.full_name == "Nia Campbell"
    # The link proved the address: verified, signed in, no verification mail needed.
    assert EmailAddress.objects.get(user=user).verified
    assert client.session["_auth_user_id"] == str(user.pk)
    assert is_member(user, tenant_a)
    assert status_of(invitation) == Invitation.Status.ACCEPTED
    # They find themselves and their organization in the directory.
    page = client.get(reverse("members:directory", args=[tenant_a.alliance.slug]))
    assert "Nia Campbell" in page.content.decode()
    assert tenant_a.organization.name in page.content.decode()


def test_signup_stays_closed_without_an_invitation(client):
    response = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in response.content or response.status_code != 200


def test_existing_account_signs_in_then_accepts(client, invite, tenant_a, tenant_b):
    _invitation, link = invite(email=tenant_b.member.email)
    page = client.get(link)
    assert b"Sign in to accept" in page.content
    client.force_login(tenant_b.member)
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == f"/{tenant_a.alliance.slug}/"
    assert is_member(tenant_b.member, tenant_a)
    assert is_member(tenant_b.member, tenant_b)  # still in B too


def test_replay_is_refused(client, invite, tenant_b):
    invitation, link = invite(email=tenant_b.member.email)
    client.force_login(tenant_b.member)
    client.post(link)
    other = UserFactory()
    client.force_login(other)
    response = client.post(link)
    assert response.status_code == 410
    assert b"already been used" in response.content
    assert status_of(invitation) == Invitation.Status.ACCEPTED


def test_expired_invitation_is_refused(client, invite, tenant_a):
    invitation, link = invite()
    with scope(alliance=tenant_a.alliance):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    client.force_login(UserFactory(email="new.ceo@example.org"))
    response = client.post(link)
    assert response.status_code == 410 and b"expired" in response.content
    assert status_of(invitation) == Invitation.Status.PENDING


def test_revoked_invitation_is_refused(client, invite, tenant_a):
    invitation, link = invite()
    with scope(alliance=tenant_a.alliance):
        services.invitation_revoke(invitation=invitation)
    assert client.get(link).status_code == 410


def test_resend_kills_the_old_link(client, invite, tenant_a, django_capture_on_commit_callbacks):
    invitation, old_link = invite()
    with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant_a.alliance):
        services.invitation_resend(invitation=invitation)
    new_link = re.search(r"(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)
    assert new_link != old_link
    assert client.get(old_link).status_code == 404
    assert client.get(new_link).status_code == 200


def test_a_different_address_needs_staff_approval(client, invite, tenant_a, tenant_b):
    invitation, link = invite()
    client.force_login(tenant_b.member)  # not new.ceo@example.org
    client.post(link)
    assert status_of(invitation) == Invitation.Status.AWAITING_APPROVAL
    assert not is_member(tenant_b.member, tenant_a)
    with scope(alliance=tenant_a.alliance):
        services.invitation_approve(invitation=invitation)
    assert is_member(tenant_b.member, tenant_a)


def test_a_tampered_token_cannot_name_another_alliance(client, invite, tenant_a, tenant_b):
    _invitation, link = invite()
    token = link.split("/")[2]
    payload = signing.loads(token, salt=services.INVITATION_SALT)
    # Re-signed with the wrong key: refused.
    forged = signing.dumps({**payload, "a": tenant_b.alliance.pk}, key="not-the-secret-key")
    assert client.get(f"/invitations/{forged}/").status_code == 404
    # Edited without re-signing: refused.
    assert client.get(f"/invitations/{token[:-2]}xx/").status_code == 404
    # The right secret under B's alliance id (as if signed): no such invitation in B.
    assert (
        services.invitation_from_token(
            signing.dumps({**payload, "a": tenant_b.alliance.pk}, salt=services.INVITATION_SALT)
        )
        is None
    )


def test_get_changes_nothing(client, invite, tenant_a):
    invitation, link = invite()
    client.force_login(UserFactory(email="new.ceo@example.org"))
    client.get(link)
    assert status_of(invitation) == Invitation.Status.PENDING


def test_cannot_invite_an_existing_member(tenant_a):
    with scope(alliance=tenant_a.alliance), pytest.raises(services.InvitationError):
        services.invitation_create(
            alliance=tenant_a.alliance,
            email=tenant_a.member.email.upper(),
            role=Role.CEO,
            invited_by=tenant_a.staff,
            organization=tenant_a.organization,
        )


class TestAdmin:
    @pytest.fixture
    def staff(self, client, tenant_a, totp_for):
        totp_for(tenant_a.staff)
        client.force_login(tenant_a.staff)
        return client

    def test_staff_invite_from_the_admin(self, staff, tenant_a, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff.post(
                reverse("admin:members_invitation_add"),
                {
                    "alliance": tenant_a.alliance.pk,
                    "email": "Quality.Lead@Example.org",
                    "full_name": "Quinn Lead",
                    "organization": tenant_a.organization.pk,
                    "role": Role.QUALITY_LEAD,
                    "title": "Chief Quality Officer",
                },
            )
        assert response.status_code == 302
        with scope(alliance=tenant_a.alliance):
            invitation = Invitation.objects.get(email="quality.lead@example.org")
        assert invitation.invited_by == tenant_a.staff
        assert mail.outbox[-1].to == ["quality.lead@example.org"]

    def test_inviting_a_member_again_is_a_form_error(self, staff, tenant_a):
        response = staff.post(
            reverse("admin:members_invitation_add"),
            {
                "alliance": tenant_a.alliance.pk,
                "email": tenant_a.member.email,
                "organization": tenant_a.organization.pk,
                "role": Role.CEO,
            },
        )
        assert response.status_code == 200
        assert b"already a member" in response.content

    def test_revoke_action(self, staff, tenant_a):
        response = staff.post(
            reverse("admin:members_invitation_changelist"),
            {"action": "revoke", "_selected_action": [tenant_a.invitation.pk]},
        )
        assert response.status_code == 302
        assert status_of(tenant_a.invitation) == Invitation.Status.REVOKED

    def test_deactivate_keeps_the_person_and_their_name(self, staff, tenant_a, client):
        response = staff.post(
            reverse("admin:members_membership_changelist"),
            {"action": "deactivate", "_selected_action": [tenant_a.membership.pk]},
        )
        assert response.status_code == 302
        with scope(alliance=tenant_a.alliance):
            membership = Membership.objects.select_related("user").get(pk=tenant_a.membership.pk)
        assert not membership.is_active
        assert membership.user.full_name == tenant_a.member.full_name  # history keeps the name
        client.force_login(tenant_a.member)
        assert client.get(f"/{tenant_a.alliance.slug}/").status_code == 404
