"""Members in the admin: invite, import with preview, deactivate, deletion refused.

The import's own cases (bad rows, other alliances, staff of several alliances)
are in tests/test_import.py; here: what the admin adds around them.
"""

import html
import logging

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from alliance.models import OutgoingEmail
from members.models import Invitation, Membership, Organization, Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


@pytest.fixture
def superuser_client(client, tenant_a, tenant_b, totp_for):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    totp_for(superuser)
    client.force_login(superuser)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


# Inviting
# ------------------------------------------------------------------------------


def test_inviting_from_the_admin_queues_the_invitation_email(staff_client, tenant_a, tenant_b):
    # "Invite a member" beside import and export on the members list.
    changelist = staff_client.get(reverse("admin:members_membership_changelist"))
    assert reverse("admin:members_invitation_add") in changelist.content.decode()

    response = staff_client.post(
        reverse("admin:members_invitation_add"),
        {
            "alliance": tenant_a.alliance.pk,
            "email": "New.Person@Alpha.example",
            "full_name": "New Person",
            "organization": tenant_a.organization.pk,
            "role": Role.QUALITY_LEAD,
            "title": "VP Quality",
        },
    )
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        invitation = Invitation.objects.get(email="new.person@alpha.example")
        [email] = OutgoingEmail.objects.filter(kind="invitation", recipient=invitation.email)
    # Through the service: a hashed secret, the sender, and the email in the outbox.
    assert invitation.secret_hash and invitation.sent_at is not None
    assert (invitation.invited_by, invitation.alliance) == (tenant_a.staff, tenant_a.alliance)
    assert email.alliance == tenant_a.alliance


def test_an_invitation_to_another_alliances_organization_is_refused(
    staff_client, tenant_a, tenant_b
):
    before = _outbox_count()
    response = staff_client.post(
        reverse("admin:members_invitation_add"),
        {
            "alliance": tenant_a.alliance.pk,
            "email": "sneaky@alpha.example",
            "organization": tenant_b.organization.pk,
            "role": Role.CEO,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in page(response)
    assert _outbox_count() == before


def test_inviting_a_member_is_refused_with_a_reason(staff_client, tenant_a):
    response = staff_client.post(
        reverse("admin:members_invitation_add"),
        {"alliance": tenant_a.alliance.pk, "email": tenant_a.member.email, "role": Role.CEO},
    )
    assert response.status_code == 200
    assert "is already a member of" in page(response)


def _outbox_count() -> int:
    with scopes_disabled():  # a test looking across alliances
        return OutgoingEmail.objects.count()


# Deactivating
# ------------------------------------------------------------------------------


def test_deactivate_goes_through_the_service_and_is_recorded(staff_client, tenant_a, tenant_b):
    with scope(alliance=tenant_a.alliance):
        leaving = MembershipFactory(alliance=tenant_a.alliance, organization=tenant_a.organization)
        gone = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization, is_active=False
        )
    response = staff_client.post(
        reverse("admin:members_membership_changelist"),
        {
            "action": "deactivate",
            # B's membership id posted too: not in A's changelist, so left alone.
            "_selected_action": [leaving.pk, gone.pk, tenant_b.membership.pk],
        },
        follow=True,
    )
    assert "1 membership(s) deactivated. 1 already inactive" in page(response)
    with scopes_disabled():
        leaving.refresh_from_db()
        assert not leaving.is_active
        assert Membership.objects.get(pk=tenant_b.membership.pk).is_active
    entry = LogEntry.objects.get(user=tenant_a.staff, object_id=str(leaving.pk))
    assert entry.action_flag == CHANGE
    assert "Deactivated" in entry.get_change_message()
    assert not LogEntry.objects.filter(object_id=str(gone.pk)).exists()


# Import and export: recorded, and all or nothing
# ------------------------------------------------------------------------------


def _preview(client, model, text):
    data = {
        "resource": "0",
        "format": "0",
        "import_file": SimpleUploadedFile("import.csv", text.encode(), content_type="text/csv"),
    }
    return client.post(reverse(f"admin:members_{model}_import"), data)


def _confirm(client, model, response):
    form = response.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(reverse(f"admin:members_{model}_process_import"), data)


def test_organization_import_is_previewed_then_saved_and_logged(staff_client, tenant_a, caplog):
    text = "name,kind\nLakeside Health,hospital\nRiverbend Hospital,hospital\n"
    response = _preview(staff_client, "organization", text)
    assert response.context["confirm_form"] is not None
    with scope(alliance=tenant_a.alliance):
        assert not Organization.objects.filter(name="Lakeside Health").exists()
    with caplog.at_level(logging.INFO, logger="members.resources"):
        assert _confirm(staff_client, "organization", response).status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert (
            Organization.objects.filter(name__in=["Lakeside Health", "Riverbend Hospital"]).count()
            == 2
        )
    [line] = [r.getMessage() for r in caplog.records if "admin import" in r.getMessage()]
    assert f"members.Organization saved: user={tenant_a.staff.pk} alliance=alpha" in line
    assert "new=2" in line
    assert LogEntry.objects.filter(user=tenant_a.staff).count() == 2


def test_a_membership_file_with_one_bad_row_saves_nothing(staff_client, tenant_a):
    text = (
        "email,full_name,organization,role\n"
        "ann.ash@alpha.example,Ann Ash,Organization of alpha,CEO\n"
        "bo.bay@alpha.example,Bo Bay,Organization of bravo,CEO\n"
    )
    with scopes_disabled():
        before = Membership.objects.count()
    response = _preview(staff_client, "membership", text)
    assert response.context.get("confirm_form") is None
    assert "Line 2: no organization named 'Organization of bravo' in this alliance" in page(
        response
    )
    with scopes_disabled():
        assert Membership.objects.count() == before


def test_member_export_is_logged(staff_client, tenant_a, caplog):
    with caplog.at_level(logging.INFO, logger="members.resources"):
        response = staff_client.post(
            reverse("admin:members_membership_export"), {"resource": "0", "format": "0"}
        )
    assert response.status_code == 200
    [line] = [r.getMessage() for r in caplog.records if "admin export" in r.getMessage()]
    assert f"members.Membership: user={tenant_a.staff.pk} alliance=alpha rows=2" in line


# Deleting an organization
# ------------------------------------------------------------------------------


def test_an_organization_with_members_is_not_deleted(superuser_client, tenant_a):
    url = reverse("admin:members_organization_delete", args=[tenant_a.organization.pk])
    response = superuser_client.post(url, {"post": "yes"}, follow=True)
    assert "has members: it cannot be deleted. Untick “is active” instead" in page(response)
    response = superuser_client.post(
        reverse("admin:members_organization_changelist"),
        {"action": "delete_selected", "_selected_action": [tenant_a.organization.pk]},
        follow=True,
    )
    assert "has members" in page(response)
    with scope(alliance=tenant_a.alliance):
        assert Organization.objects.filter(pk=tenant_a.organization.pk).exists()


def test_an_organization_without_dependents_can_be_deleted(superuser_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        spare = OrganizationFactory(alliance=tenant_a.alliance, name="Spare Clinic")
    response = superuser_client.post(
        reverse("admin:members_organization_changelist"),
        {"action": "delete_selected", "_selected_action": [spare.pk, tenant_a.organization.pk]},
    )
    # The refused one is named; Django's confirmation page lists only the other.
    assert response.status_code == 200
    assert "Spare Clinic" in page(response)
    response = superuser_client.post(
        reverse("admin:members_organization_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [spare.pk, tenant_a.organization.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert not Organization.objects.filter(pk=spare.pk).exists()
        assert Organization.objects.filter(pk=tenant_a.organization.pk).exists()
