"""The audit log (alliance/audit.py): sign-ins, failed sign-ins, MFA changes,
permission changes, exports and imports, with user, alliance, IP and UTC time;
superusers read it, nobody else."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from alliance.models import AuditEvent
from members.models import Role
from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db

IP = "192.0.2.44"
LOGIN = "/accounts/login/"


def events(kind: str) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(kind=kind).select_related("user", "alliance"))


def test_a_sign_in_is_recorded_with_the_address_and_utc_time(client, tenant_a):
    before = timezone.now()
    client.post(LOGIN, {"login": tenant_a.member.email, "password": PASSWORD}, REMOTE_ADDR=IP)
    [event] = events("sign_in")
    assert (event.user, event.user_email, event.ip) == (tenant_a.member, tenant_a.member.email, IP)
    assert before <= event.at <= timezone.now()
    assert event.at.utcoffset() == datetime.timedelta(0)


def test_a_failed_sign_in_names_the_account_tried(client, tenant_a):
    client.post(LOGIN, {"login": tenant_a.member.email, "password": "wrong"}, REMOTE_ADDR=IP)
    [event] = events("sign_in_failed")
    assert event.user is None and event.ip == IP
    assert tenant_a.member.email in event.detail
    assert "wrong" not in event.detail  # never the password


def test_adding_mfa_is_recorded(client, tenant_a, django_capture_on_commit_callbacks):
    client.post(LOGIN, {"login": tenant_a.member.email, "password": PASSWORD}, REMOTE_ADDR=IP)
    # allauth asks for the password again before any MFA change.
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD}, REMOTE_ADDR=IP)
    activate = reverse("mfa_activate_totp")
    assert client.get(activate, REMOTE_ADDR=IP).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(activate, {"code": code}, REMOTE_ADDR=IP)
    assert response.status_code == 302
    added = events("mfa_added")
    assert added and all(e.user == tenant_a.member and e.ip == IP for e in added)


def test_a_role_change_in_the_admin_is_recorded_with_who_and_where(
    client, tenant_a, tenant_b, totp_for
):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    membership = tenant_a.membership
    url = reverse("admin:members_membership_change", args=[membership.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if hasattr(field.widget, "decompress"):  # a date and a time: two inputs
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = part
        else:
            data[name] = value
    data["role"] = Role.TRUSTEE
    response = client.post(url, data, REMOTE_ADDR=IP)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [event] = [e for e in events("permission_changed") if e.ip == IP]
    assert event.user == tenant_a.staff and event.alliance == tenant_a.alliance
    assert f"{tenant_a.member.email}: role: ceo → trustee" == event.detail


def test_making_someone_staff_is_recorded(tenant_a):
    user = tenant_a.member
    user.is_staff = True
    user.save()
    assert any(
        e.detail == f"{user.email}: is_staff: False → True" for e in events("permission_changed")
    )


def test_saving_without_a_permission_change_records_nothing(tenant_a):
    count = len(events("permission_changed"))
    tenant_a.member.full_name = "Another Name"
    tenant_a.member.save()
    assert len(events("permission_changed")) == count


def test_an_admin_csv_export_is_recorded(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    response = client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "export_registrations", "_selected_action": [tenant_a.meeting.pk]},
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = events("export")
    assert (event.user, event.alliance, event.ip) == (tenant_a.staff, None, IP)
    assert event.detail.endswith("(admin CSV)")


def test_the_log_is_for_superusers_only(client, tenant_a, tenant_b, totp_for, django_user_model):
    url = reverse("admin:alliance_auditevent_changelist")
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    assert client.get(url).status_code == 403
    root = django_user_model.objects.create_superuser("root@example.org", PASSWORD)
    totp_for(root)
    client.force_login(root)
    page = client.get(url)
    assert page.status_code == 200
    assert "Signed in" in page.content.decode()
    event = events("sign_in")[0]
    change = reverse("admin:alliance_auditevent_change", args=[event.pk])
    assert client.post(change, {"detail": "rewritten"}).status_code == 403
