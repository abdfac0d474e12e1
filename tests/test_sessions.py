"""Session hardening (QUALITY.md, Authentication and sessions; docs/accounts.md):
12 hours absolute, 30 minutes idle for staff, password changes end other sessions,
re-authentication before changing the email address or MFA, X-Forwarded-For only
from a configured proxy."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from alliance.tenancy.middleware import SIGNED_IN_AT, SessionAgeMiddleware
from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
IDLE_KEY = SessionAgeMiddleware.STAFF_LAST_ACTIVE


def sign_in(client, user, **extra):
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD}, **extra)
    assert response.status_code == 302, response.content[:500]
    return client


def set_session(client, **values):
    session = client.session
    session.update(values)
    session.save()


def test_twelve_hours_after_sign_in_the_session_ends_however_busy(client, tenant_a):
    sign_in(client, tenant_a.member)
    home = f"/{tenant_a.alliance.slug}/"
    signed_in_at = client.session[SIGNED_IN_AT]
    assert abs(signed_in_at - time.time()) < 60
    # Used a minute before the twelve hours are up: still signed in.
    set_session(client, **{SIGNED_IN_AT: int(time.time()) - 12 * 3600 + 60})
    assert client.get(home).status_code == 200
    set_session(client, **{SIGNED_IN_AT: int(time.time()) - 12 * 3600 - 1})
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "signed out 12 hours after you signed in" in page


@pytest.fixture
def staff_client(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def test_staff_are_signed_out_after_thirty_idle_minutes(staff_client):
    admin = reverse("admin:index")
    assert staff_client.get(admin).status_code == 200
    set_session(staff_client, **{IDLE_KEY: int(time.time()) - 31 * 60})
    response = staff_client.get(admin)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in staff_client.session
    page = staff_client.get(response["Location"]).content.decode()
    assert "signed out after 30 minutes without activity" in page


def test_staff_activity_keeps_the_session(staff_client):
    admin = reverse("admin:index")
    staff_client.get(admin)
    stale = int(time.time()) - 29 * 60
    set_session(staff_client, **{IDLE_KEY: stale})
    assert staff_client.get(admin).status_code == 200
    assert staff_client.session[IDLE_KEY] > stale  # the activity was recorded


def test_members_have_no_idle_limit(client, tenant_a):
    client.force_login(tenant_a.member)
    set_session(client, **{IDLE_KEY: int(time.time()) - 5 * 3600})
    assert client.get(f"/{tenant_a.alliance.slug}/").status_code == 200


def test_changing_the_password_ends_the_other_sessions(tenant_a):
    here, elsewhere = sign_in(Client(), tenant_a.member), sign_in(Client(), tenant_a.member)
    home = f"/{tenant_a.alliance.slug}/"
    assert elsewhere.get(home).status_code == 200
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "A-new-Passw0rd!x", "password2": "A-new-Passw0rd!x"},
    )
    assert response.status_code == 302
    assert here.get(home).status_code == 200  # the session that changed it stays
    assert elsewhere.get(home).status_code == 302  # to the login page


def test_adding_an_email_address_asks_for_the_password_again(client, tenant_a):
    sign_in(client, tenant_a.member)
    add = {"action_add": "", "email": "second@alpha.example"}
    response = client.post(reverse("account_email"), add)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not tenant_a.member.emailaddress_set.filter(email="second@alpha.example").exists()
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.post(reverse("account_email"), add).status_code == 302
    assert tenant_a.member.emailaddress_set.filter(email="second@alpha.example").exists()


def test_setting_up_mfa_asks_for_the_password_again(client, tenant_a):
    sign_in(client, tenant_a.member)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_a_forged_forwarded_for_does_not_dodge_the_ip_limit(client):
    statuses = [
        client.post(
            LOGIN,
            {"login": f"user{i}@example.org", "password": "x"},
            REMOTE_ADDR="192.0.2.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(11)
    ]
    assert statuses[10] == 429


def test_behind_a_configured_proxy_the_forwarded_address_counts(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    statuses = [
        client.post(
            LOGIN,
            {"login": f"user{i}@example.org", "password": "x"},
            REMOTE_ADDR="10.0.0.1",  # the proxy
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(11)
    ]
    assert 429 not in statuses


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(tenant_a, totp_for):
    from django_scopes import scope

    from sessions.models import Registration

    member = Client(enforce_csrf_checks=True)
    member.force_login(tenant_a.member)
    rsvp = reverse("meetings:rsvp", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
    with scope(alliance=tenant_a.alliance):
        before = Registration.objects.get(pk=tenant_a.registration.pk).response
    other = "virtual" if before != "virtual" else "in_person"
    assert member.post(rsvp, {"response": other}).status_code == 403
    with scope(alliance=tenant_a.alliance):
        assert Registration.objects.get(pk=tenant_a.registration.pk).response == before

    staff = Client(enforce_csrf_checks=True)
    totp_for(tenant_a.staff)
    staff.force_login(tenant_a.staff)
    delete = reverse("admin:alliance_notice_delete", args=[tenant_a.notice.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    with scope(alliance=tenant_a.alliance):
        assert type(tenant_a.notice).objects.filter(pk=tenant_a.notice.pk).exists()
