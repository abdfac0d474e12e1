"""Staff import of organizations and members (django-import-export in the admin).

A file is previewed first; "Confirm import" saves it in one transaction. A bad
row shows its line and reason, no confirm form is offered, and nothing is
saved. An import writes to one alliance: the staff user's own, or the one they
choose among those they manage, never another's.
"""

import html

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from import_export.formats import base_formats

from members.models import Membership, Organization, Role, User
from members.resources import OrganizationResource
from tests.factories import AllianceFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.guardrails.snapshot import tenant_rows

pytestmark = pytest.mark.django_db

ORGANIZATIONS_CSV = (
    "name,kind,city,region,website,is_active\n"
    "Lakeside Health,Health system,Duluth,MN,lakeside.example,yes\n"
    "Riverbend Hospital,hospital,Fargo,ND,https://riverbend.example,\n"
)
MEMBERS_CSV = (
    "email,full_name,organization,role,title,is_primary_contact\n"
    "Pat.Lee@Lakeside.example,Pat Lee,Organization of alpha,CEO,President and CEO,yes\n"
    "sam.roe@lakeside.example,Sam Roe,organization of ALPHA,head of quality,VP Quality,no\n"
    "kim.oh@alliance.example,Kim Oh,,Alliance staff,Program director,\n"
)


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("import.csv", text.encode("utf-8"), content_type="text/csv")


def preview(client, model: str, text: str, **fields):
    """The import form posted as django-import-export 4 expects it (one format: CSV = 0)."""
    data = {"resource": "0", "format": "0", "import_file": csv_upload(text), **fields}
    return client.post(reverse(f"admin:members_{model}_import"), data)


def confirm(client, model: str, response, **override):
    """Post the confirm form the preview offered (its hidden fields), as the browser does."""
    form = response.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(reverse(f"admin:members_{model}_process_import"), {**data, **override})


def offers_confirm(response) -> bool:
    return "confirm_form" in response.context and response.context["confirm_form"] is not None


def page(response) -> str:
    return html.unescape(response.content.decode())


def problems(response) -> list[str]:
    """What the preview complains about (for assertion messages)."""
    if "result" not in response.context or response.context["result"] is None:
        return [str(response.context["form"].errors)]
    result = response.context["result"]
    found = [str(e.error) for e in result.base_errors]
    found += [str(e.error) for _, errors in result.row_errors() for e in errors]
    found += [t for row in result.invalid_rows for ts in row.error_dict.values() for t in ts]
    return found


def counts() -> dict[str, int]:
    with scopes_disabled():  # a test looking across alliances
        return {
            "organizations": Organization.objects.count(),
            "memberships": Membership.objects.count(),
            "users": User.objects.count(),
            "addresses": EmailAddress.objects.count(),
        }


def import_csv(client, model, text, **fields):
    response = preview(client, model, text, **fields)
    assert response.status_code == 200
    assert offers_confirm(response), problems(response)
    return confirm(client, model, response, **fields)


# Good files
# ------------------------------------------------------------------------------


def test_organization_import_previews_then_saves_in_the_staff_users_alliance(
    staff_client, tenant_a, tenant_b
):
    before = counts()
    response = preview(staff_client, "organization", ORGANIZATIONS_CSV)
    assert response.status_code == 200
    assert offers_confirm(response)
    assert "Lakeside Health" in page(response) and "Riverbend Hospital" in page(response)
    assert counts() == before, "the preview saved something"

    response = confirm(staff_client, "organization", response)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:members_organization_changelist")
    with scope(alliance=tenant_a.alliance):
        lakeside = Organization.objects.get(name="Lakeside Health")
        riverbend = Organization.objects.get(name="Riverbend Hospital")
    assert lakeside.alliance == riverbend.alliance == tenant_a.alliance
    assert (lakeside.kind, lakeside.website) == ("health_system", "https://lakeside.example")
    assert (riverbend.kind, riverbend.region, riverbend.is_active) == ("hospital", "ND", True)
    assert counts()["organizations"] == before["organizations"] + 2


def test_member_import_creates_users_with_verified_addresses_and_memberships(
    staff_client, tenant_a
):
    before = counts()
    response = preview(staff_client, "membership", MEMBERS_CSV)
    assert offers_confirm(response), problems(response)
    assert counts() == before, "the preview saved something"
    assert confirm(staff_client, "membership", response).status_code == 302

    assert counts()["users"] == before["users"] + 3
    pat = User.objects.get(email="pat.lee@lakeside.example")  # lowercased
    assert pat.full_name == "Pat Lee"
    assert not pat.has_usable_password()  # signs in through "Forgot your password?"
    address = EmailAddress.objects.get(user=pat)
    assert (address.email, address.verified, address.primary) == (pat.email, True, True)
    with scope(alliance=tenant_a.alliance):
        rows = {
            m.user.email: m
            for m in Membership.objects.select_related("user").filter(
                user__email__in=[
                    "pat.lee@lakeside.example",
                    "sam.roe@lakeside.example",
                    "kim.oh@alliance.example",
                ]
            )
        }
    pat_m, sam_m, kim_m = (
        rows["pat.lee@lakeside.example"],
        rows["sam.roe@lakeside.example"],
        rows["kim.oh@alliance.example"],
    )
    assert {m.alliance_id for m in rows.values()} == {tenant_a.alliance.pk}
    assert all(m.is_active for m in rows.values())
    assert (pat_m.role, pat_m.organization, pat_m.title, pat_m.is_primary_contact) == (
        Role.CEO,
        tenant_a.organization,
        "President and CEO",
        True,
    )
    assert (sam_m.role, sam_m.organization) == (Role.QUALITY_LEAD, tenant_a.organization)
    assert (kim_m.role, kim_m.organization) == (Role.ALLIANCE_STAFF, None)
    assert kim_m.user.is_staff  # alliance staff run their alliance through the admin


def test_changelists_offer_import_and_export(staff_client, tenant_a):
    for model in ("organization", "membership"):
        content = staff_client.get(reverse(f"admin:members_{model}_changelist")).content.decode()
        assert reverse(f"admin:members_{model}_import") in content
        assert reverse(f"admin:members_{model}_export") in content
        response = staff_client.get(reverse(f"admin:members_{model}_import"))
        assert response.status_code == 200
        assert 'name="alliance"' not in response.content.decode()  # one alliance: no choice
        assert f"Rows are created and updated in {tenant_a.alliance}." in page(response)


# Bad rows
# ------------------------------------------------------------------------------

GOOD_MEMBER = "ann.ash@alpha.example,Ann Ash,Organization of alpha,CEO,,"
LONG = "x" * 201


@pytest.mark.parametrize(
    ("model", "header", "bad_row", "reason"),
    [
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            "bo.bay@alpha.example,Bo Bay,Nowhere General,CEO,,",
            "Line 2: no organization named 'Nowhere General' in this alliance",
        ),
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            "bo.bay@alpha.example,Bo Bay,Organization of alpha,Chief Wizard,,",
            "Line 2: unknown role 'Chief Wizard'",
        ),
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            "bo.bay@,Bo Bay,Organization of alpha,CEO,,",
            "Line 2: invalid email address 'bo.bay@'",
        ),
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            "bo.bay@alpha.example,Bo Bay,,Trustee,,",
            "Line 2: organization is empty, but a member with role 'Trustee' belongs to one",
        ),
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            f"bo.bay@alpha.example,Bo Bay,Organization of alpha,CEO,{LONG},",
            "Line 2: title: Ensure this value has at most 200 characters (it has 201).",
        ),
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            f"bo.bay@alpha.example,{LONG},Organization of alpha,CEO,,",
            "Line 2: full_name is longer than 200 characters (it has 201)",
        ),
        (
            "membership",
            MEMBERS_CSV.splitlines()[0],
            "bo.bay@alpha.example,Bo Bay,Organization of alpha,CEO,,maybe",
            "Line 2: is_primary_contact must be yes or no, not 'maybe'",
        ),
        (
            "organization",
            ORGANIZATIONS_CSV.splitlines()[0],
            f"{LONG},hospital,,,,",
            "Line 2: name: Ensure this value has at most 200 characters (it has 201).",
        ),
        (
            "organization",
            ORGANIZATIONS_CSV.splitlines()[0],
            "Hilltop Clinic,Spaceport,,,,",
            "Line 2: unknown kind 'Spaceport'",
        ),
        (
            "organization",
            ORGANIZATIONS_CSV.splitlines()[0],
            "Hilltop Clinic,hospital,,,not a web site,",
            "Line 2: website: Enter a valid URL.",
        ),
    ],
    ids=[
        "unknown-organization",
        "unknown-role",
        "invalid-email",
        "no-organization-for-member",
        "long-title",
        "long-full-name",
        "bad-yes-no",
        "long-organization-name",
        "unknown-kind",
        "bad-website",
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_saved(staff_client, model, header, bad_row, reason):
    good = GOOD_MEMBER if model == "membership" else "Good Clinic,hospital,,,,"
    other_good = (
        "cy.cole@alpha.example,Cy Cole,Organization of alpha,Trustee,,"
        if model == "membership"
        else "Better Clinic,Physician group,,,,"
    )
    before = counts()
    response = preview(staff_client, model, "\n".join([header, good, bad_row, other_good]) + "\n")
    assert response.status_code == 200
    assert not offers_confirm(response), "a file with a bad row must not be confirmable"
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [2]
    messages = [text for texts in result.invalid_rows[0].error_dict.values() for text in texts]
    assert any(text.startswith(reason) for text in messages), messages
    assert reason in page(response)
    assert "Confirm import" not in page(response)
    assert counts() == before


def test_missing_or_unknown_columns_are_row_errors(staff_client):
    before = counts()
    response = preview(staff_client, "membership", "email,full_name,titel\na@b.example,A B,x\n")
    assert not offers_confirm(response)
    text = page(response)
    assert "Line 1: the file has no 'role' column; unknown column 'titel'" in text
    assert counts() == before


def test_a_row_that_turns_bad_before_confirm_saves_nothing(staff_client, tenant_a):
    """All or nothing also at confirm: the file is imported again, in one transaction."""
    before = counts()
    response = preview(staff_client, "membership", MEMBERS_CSV)
    assert offers_confirm(response)
    with scope(alliance=tenant_a.alliance):  # someone renames the organization meanwhile
        Organization.objects.filter(pk=tenant_a.organization.pk).update(name="Renamed")
    response = confirm(staff_client, "membership", response)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:members_membership_import")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Nothing was imported" in m and "Line 1" in m for m in messages), messages
    assert counts() == before


# Re-import
# ------------------------------------------------------------------------------


def test_reimport_updates_instead_of_duplicating(staff_client, tenant_a):
    import_csv(staff_client, "organization", ORGANIZATIONS_CSV)
    import_csv(staff_client, "membership", MEMBERS_CSV)
    after_first = counts()

    changed_organizations = ORGANIZATIONS_CSV.replace("Duluth", "St. Paul").replace(
        "Riverbend Hospital,hospital", "RIVERBEND HOSPITAL,Long-term care"
    )
    changed_members = MEMBERS_CSV.replace("President and CEO", "Chief Executive").replace(
        "sam.roe@lakeside.example,Sam Roe", "SAM.ROE@lakeside.example,Samuel Roe"
    )
    response = preview(staff_client, "organization", changed_organizations)
    assert [row.import_type for row in response.context["result"].rows] == ["update", "update"]
    confirm(staff_client, "organization", response)
    import_csv(staff_client, "membership", changed_members)

    assert counts() == after_first
    with scope(alliance=tenant_a.alliance):
        assert Organization.objects.get(name="Lakeside Health").city == "St. Paul"
        riverbend = Organization.objects.get(name="RIVERBEND HOSPITAL")
        pat = Membership.objects.get(user__email="pat.lee@lakeside.example")
    assert riverbend.kind == "long_term_care"
    assert pat.title == "Chief Executive"
    assert User.objects.get(email="sam.roe@lakeside.example").full_name == "Samuel Roe"


# The other alliance
# ------------------------------------------------------------------------------


def test_member_import_cannot_reach_the_other_alliance(staff_client, tenant_a, tenant_b):
    b_before = tenant_rows(tenant_b.alliance)
    before = counts()
    text = (
        MEMBERS_CSV.splitlines()[0]
        + f"\nbo.bay@alpha.example,Bo Bay,{tenant_b.organization.name},CEO,,\n"
    )
    response = preview(staff_client, "membership", text)
    assert not offers_confirm(response)
    assert f"Line 1: no organization named '{tenant_b.organization.name}' in this alliance" in (
        page(response)
    )
    assert counts() == before

    # B's member may also join A; that creates A's membership and leaves B's
    # rows, and the person's name (B's member, not A's to edit), alone.
    text = (
        MEMBERS_CSV.splitlines()[0]
        + f"\n{tenant_b.member.email},Someone Else,Organization of alpha,Trustee,,\n"
    )
    assert import_csv(staff_client, "membership", text).status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert Membership.objects.get(user=tenant_b.member).alliance == tenant_a.alliance
    tenant_b.member.refresh_from_db()
    assert tenant_b.member.full_name != "Someone Else"

    # An organization file naming B's organization creates A's own.
    text = ORGANIZATIONS_CSV.splitlines()[0] + f"\n{tenant_b.organization.name},payer,,,,\n"
    assert import_csv(staff_client, "organization", text).status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert Organization.objects.filter(name=tenant_b.organization.name).exists()
    assert tenant_rows(tenant_b.alliance) == b_before


def test_an_organization_of_another_alliance_is_refused_even_in_scope(
    client, tenant_a, tenant_b, totp_for
):
    """A staff user of A and C has both in scope; an import into A still sees only A's."""
    charlie = AllianceFactory(slug="charlie", name="Alliance CHARLIE")
    OrganizationFactory(alliance=charlie, name="Charlie Clinic")
    MembershipFactory(alliance=charlie, user=tenant_a.staff, role=Role.ALLIANCE_STAFF)
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    before = counts()
    text = MEMBERS_CSV.splitlines()[0] + "\nbo.bay@alpha.example,Bo Bay,Charlie Clinic,CEO,,\n"
    response = preview(client, "membership", text, alliance=tenant_a.alliance.pk)
    assert not offers_confirm(response)
    assert "Line 1: no organization named 'Charlie Clinic' in this alliance" in page(response)
    assert counts() == before


def test_export_holds_only_the_staff_users_alliance(staff_client, tenant_a, tenant_b):
    for model in ("organization", "membership"):
        url = reverse(f"admin:members_{model}_export")
        assert staff_client.get(url).status_code == 200
        response = staff_client.post(url, {"resource": "0", "format": "0"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        exported = response.content.decode()
        assert tenant_a.organization.name in exported
        for b_value in (
            tenant_b.organization.name,
            tenant_b.member.email,
            tenant_b.staff.email,
            tenant_b.alliance.name,
        ):
            assert b_value not in exported, (model, b_value)
    members = staff_client.post(
        reverse("admin:members_membership_export"), {"resource": "0", "format": "0"}
    ).content.decode()
    assert members.splitlines()[0] == "email,full_name,organization,role,title,is_primary_contact"
    assert f"{tenant_a.member.email},{tenant_a.member.full_name},Organization of alpha,CEO" in (
        members
    )


# Staff of several alliances
# ------------------------------------------------------------------------------


@pytest.fixture
def two_alliance_client(client, tenant_a, tenant_b, totp_for):
    """A's staff user is also staff of alliance C (not of B)."""
    charlie = AllianceFactory(slug="charlie", name="Alliance CHARLIE")
    OrganizationFactory(alliance=charlie, name="Organization of alpha")  # same name as A's
    MembershipFactory(alliance=charlie, user=tenant_a.staff, role=Role.ALLIANCE_STAFF)
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client, charlie


def test_staff_of_two_alliances_must_choose_one_they_manage(
    two_alliance_client, tenant_a, tenant_b
):
    client, charlie = two_alliance_client
    form = client.get(reverse("admin:members_membership_import")).context["form"]
    assert set(form.fields["alliance"].queryset) == {tenant_a.alliance, charlie}

    before, b_before = counts(), tenant_rows(tenant_b.alliance)
    response = preview(client, "membership", MEMBERS_CSV)  # no alliance chosen
    assert not offers_confirm(response)
    assert "alliance" in response.context["form"].errors
    response = preview(client, "membership", MEMBERS_CSV, alliance=tenant_b.alliance.pk)
    assert not offers_confirm(response)
    assert "Select a valid choice" in response.context["form"].errors["alliance"][0]
    assert counts() == before

    response = preview(client, "membership", MEMBERS_CSV, alliance=charlie.pk)
    assert offers_confirm(response)
    # The confirm step checks the alliance again: B's id posted there is refused.
    tampered = confirm(client, "membership", response, alliance=tenant_b.alliance.pk)
    assert tampered.status_code == 200
    assert "Select a valid choice" in page(tampered)
    assert counts() == before
    assert tenant_rows(tenant_b.alliance) == b_before

    assert confirm(client, "membership", response).status_code == 302
    with scope(alliance=charlie):
        pat = Membership.objects.select_related("organization").get(
            user__email="pat.lee@lakeside.example"
        )
    assert pat.alliance == charlie and pat.organization.alliance == charlie
    with scope(alliance=tenant_a.alliance):
        assert not Membership.objects.filter(user__email="pat.lee@lakeside.example").exists()
    assert tenant_rows(tenant_b.alliance) == b_before


def test_superuser_chooses_among_all_alliances(client, tenant_a, tenant_b, totp_for):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    totp_for(superuser)
    client.force_login(superuser)
    form = client.get(reverse("admin:members_organization_import")).context["form"]
    assert set(form.fields["alliance"].queryset) >= {tenant_a.alliance, tenant_b.alliance}
    import_csv(client, "organization", ORGANIZATIONS_CSV, alliance=tenant_b.alliance.pk)
    with scope(alliance=tenant_b.alliance):
        assert Organization.objects.filter(name="Lakeside Health").exists()


def test_a_resource_imports_only_with_an_alliance(tenant_a):
    dataset = base_formats.CSV().create_dataset(ORGANIZATIONS_CSV)
    with pytest.raises(ImproperlyConfigured), scope(alliance=tenant_a.alliance):
        OrganizationResource().import_data(dataset, dry_run=True)


def test_staff_without_add_and_change_rights_cannot_import(client, tenant_a, totp_for):
    """The import needs the model's add and change permissions (the staff group's)."""
    tenant_a.staff.groups.clear()
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    assert client.get(reverse("admin:members_organization_import")).status_code == 403
    assert preview(client, "organization", ORGANIZATIONS_CSV).status_code == 403
    assert client.get(reverse("admin:members_organization_export")).status_code == 403


def test_several_staff_rows_in_one_file(staff_client, tenant_a):
    text = (
        "email,full_name,organization,role,title,is_primary_contact\n"
        "one.staff@alliance.example,One Staff,,Alliance staff,Coordinator,\n"
        "two.staff@alliance.example,Two Staff,,alliance_staff,Analyst,\n"
    )
    response = preview(staff_client, "membership", text)
    assert offers_confirm(response)
    confirm(staff_client, "membership", response)
    for email in ("one.staff@alliance.example", "two.staff@alliance.example"):
        user = User.objects.get(email=email)
        assert user.is_staff and user.groups.filter(name="Alliance staff").exists()
