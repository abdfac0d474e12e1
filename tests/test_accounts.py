"""Sign-in, verification, password reset, MFA for staff (django-allauth)."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory
from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def login(client, email, password=PASSWORD, next=None, **extra):
    data = {"login": email, "password": password}
    if next is not None:
        data["next"] = next
    return client.post(LOGIN, data, **extra)


def test_login_rotates_the_session_and_logout_kills_it(client, tenant_a):
    client.get(LOGIN)
    anonymous_key = client.session.session_key
    response = login(client, tenant_a.member.email)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(tenant_a.member.pk)
    assert client.session.session_key != anonymous_key
    old_cookie = client.cookies["sessionid"].value
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
    client.cookies["sessionid"] = old_cookie
    assert client.get(f"/{tenant_a.alliance.slug}/").status_code == 302  # to login


def test_login_is_case_insensitive_on_email(client, tenant_a):
    login(client, tenant_a.member.email.upper())
    assert client.session.get("_auth_user_id") == str(tenant_a.member.pk)


def test_wrong_password_is_refused_with_a_message(client, tenant_a):
    response = login(client, tenant_a.member.email, "not-the-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"not correct" in response.content


def test_unverified_account_gets_no_session(client):
    user = UserFactory(verified=False)
    response = login(client, user.email)
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")


def test_password_reset_answers_the_same_for_unknown_emails(
    client, tenant_a, django_capture_on_commit_callbacks
):
    # The outbox delivers after the commit: run those callbacks, as a real commit would.
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("account_reset_password"), {"email": tenant_a.member.email})
        unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    reset_links = [m for m in mail.outbox if "/accounts/password/reset/key/" in m.body]
    assert [m.to for m in reset_links] == [[tenant_a.member.email]]


def test_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert b"Sign Up Closed" in response.content or response.status_code != 302
    from members.models import User

    assert not User.objects.filter(email="new@example.org").exists()


def test_too_many_failed_logins_lock_the_account(client, tenant_a):
    for _ in range(5):
        login(client, tenant_a.member.email, "wrong-password-guess")
    # The right password no longer works for a while.
    response = login(client, tenant_a.member.email)
    assert "_auth_user_id" not in client.session
    assert b"Too many failed login attempts" in response.content


def test_too_many_logins_from_one_ip_get_429(client):
    statuses = [
        login(client, f"user{i}@example.org", "x", REMOTE_ADDR="192.0.2.7").status_code
        for i in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


class TestStaffMFA:
    def test_admin_login_goes_through_allauth(self, client):
        response = client.get("/admin/login/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)

    def test_staff_without_totp_are_sent_to_mfa_setup(self, client, tenant_a):
        login(client, tenant_a.staff.email)
        for url in ("/admin/", f"/{tenant_a.alliance.slug}/", "/"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"] == reverse("mfa_activate_totp"), url
        # Setting up MFA asks for the password again (allauth re-authentication);
        # that page must be reachable, not bounced back here.
        response = client.get(reverse("mfa_activate_totp"), follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))

    def test_staff_with_totp_reach_the_admin(self, client, tenant_a, totp_for):
        totp_for(tenant_a.staff)
        client.force_login(tenant_a.staff)
        assert client.get("/admin/").status_code == 200

    def test_members_are_not_asked_for_mfa(self, client, tenant_a):
        client.force_login(tenant_a.member)
        assert client.get(f"/{tenant_a.alliance.slug}/").status_code == 200

    def test_non_staff_cannot_use_the_admin(self, client, tenant_a):
        client.force_login(tenant_a.member)
        assert client.get("/admin/", follow=True).status_code == 403


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example/"]
)
def test_next_never_leads_off_the_site(client, tenant_a, target):
    response = login(client, tenant_a.member.email, next=target)
    assert response.status_code == 302
    assert "elsewhere.example" not in response["Location"]
    assert response["Location"].startswith("/")
    response = client.post(reverse("account_logout"), {"next": target})
    assert "elsewhere.example" not in response["Location"]


def test_password_resets_are_limited_per_address_known_or_not(client, tenant_a):
    reset = reverse("account_reset_password")
    for email in (tenant_a.member.email, "nobody@example.org"):
        statuses = [
            client.post(reset, {"email": email}, REMOTE_ADDR=f"192.0.2.{i}").status_code
            for i in range(4)
        ]
        assert statuses == [302, 302, 302, 429], email
