"""Workgroups in the admin: readings import and export, deletion refusals, inlines, links.

A readings file is previewed (a rolled-back dry run) and saved on "Confirm import"
in one transaction; a file with any bad row saves nothing and lists every bad row
as "Line N: reason", N counted as in the file (the header is line 1).
"""

import datetime
import html
import io
import logging
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.factories import (
    FocusAreaFactory,
    MeasureFactory,
    OrganizationFactory,
    ParticipationFactory,
    UserFactory,
)
from workgroups.models import (
    BaselineChange,
    FocusArea,
    Measure,
    Participation,
    Reading,
    ReadingRevision,
    Workgroup,
)

pytestmark = pytest.mark.django_db

CSV, XLSX = "0", "1"  # ReadingAdmin.import_formats / export_formats
HEADER = "organization,measure,period_start,numerator,denominator,note"


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


def upload(client, content: bytes, *, fmt: str = CSV, name: str = "readings.csv"):
    data = {
        "resource": "0",
        "format": fmt,
        "import_file": SimpleUploadedFile(name, content),
    }
    return client.post(reverse("admin:workgroups_reading_import"), data)


def confirm(client, response):
    form = response.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(reverse("admin:workgroups_reading_process_import"), data)


def offers_confirm(response) -> bool:
    return response.context.get("confirm_form") is not None


def messages_of(response) -> list[str]:
    result = response.context["result"]
    found = [str(e.error) for e in result.base_errors]
    found += [str(e.error) for _, errors in result.row_errors() for e in errors]
    found += [t for row in result.invalid_rows for ts in row.error_dict.values() for t in ts]
    return found


def readings(alliance) -> dict:
    with scope(alliance=alliance):
        return {
            (r.organization.name, r.measure.name, r.period_start): (r.numerator, r.denominator)
            for r in Reading.objects.select_related("organization", "measure")
        }


def all_counts() -> tuple[int, int]:
    with scopes_disabled():  # a test looking across alliances
        return Reading.objects.count(), ReadingRevision.objects.count()


def good_csv(tenant) -> str:
    org, measure = tenant.organization.name, tenant.measure.name
    return (
        f"{HEADER}\n"
        # The tenant's reading (Oct 2020: 2 ÷ 50000) corrected; two new months.
        f"{org},{measure},2020-10-01,3,50000,Recount\n"
        f"{org},{measure.upper()},Nov 2020,1,48000,\n"
        f"{org},{tenant.measure.pk},2020-12,0,47000,Quiet month\n"
    )


# Good files
# ------------------------------------------------------------------------------


def test_csv_import_previews_then_saves_through_the_service(staff_client, tenant_a, caplog):
    before = all_counts()
    response = upload(staff_client, good_csv(tenant_a).encode())
    assert response.status_code == 200
    assert offers_confirm(response), messages_of(response)
    totals = response.context["result"].totals
    assert (totals["new"], totals["update"]) == (2, 1)
    assert all_counts() == before, "the preview saved something"

    with caplog.at_level(logging.INFO, logger="members.resources"):
        response = confirm(staff_client, response)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:workgroups_reading_changelist")
    org, measure = tenant_a.organization.name, tenant_a.measure.name
    saved = readings(tenant_a.alliance)
    assert saved[(org, measure, datetime.date(2020, 10, 1))] == (Decimal(3), Decimal(50000))
    assert saved[(org, measure, datetime.date(2020, 11, 1))] == (Decimal(1), Decimal(48000))
    assert saved[(org, measure, datetime.date(2020, 12, 1))] == (Decimal(0), Decimal(47000))
    with scope(alliance=tenant_a.alliance):
        # The correction kept the old values (reading_save), by the staff user.
        revision = ReadingRevision.objects.get(reading=tenant_a.reading)
        assert (revision.numerator, revision.changed_by) == (Decimal(2), tenant_a.staff)
        assert Reading.objects.get(pk=tenant_a.reading.pk).updated_by == tenant_a.staff
    # Recorded: an admin log entry per row and a log line with the counts.
    assert LogEntry.objects.filter(user=tenant_a.staff).count() == 3
    [line] = [r.getMessage() for r in caplog.records if "admin import" in r.getMessage()]
    assert "workgroups.Reading saved" in line
    assert f"user={tenant_a.staff.pk} alliance={tenant_a.alliance.slug}" in line
    assert "new=2 updated=1" in line


def test_xlsx_import_reads_dates_and_numbers_as_typed(staff_client, tenant_a):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    org, measure = tenant_a.organization.name, tenant_a.measure.name
    sheet.append([org, measure, datetime.datetime(2021, 1, 1), 2, 46000.0, "From Excel"])
    sheet.append([org, tenant_a.measure.pk, datetime.date(2021, 2, 1), 0.5, 45000, None])
    sheet.append([None] * 6)  # an empty row: skipped
    out = io.BytesIO()
    book.save(out)

    response = upload(staff_client, out.getvalue(), fmt=XLSX, name="readings.xlsx")
    assert offers_confirm(response), messages_of(response)
    assert confirm(staff_client, response).status_code == 302
    saved = readings(tenant_a.alliance)
    assert saved[(org, measure, datetime.date(2021, 1, 1))] == (Decimal(2), Decimal(46000))
    assert saved[(org, measure, datetime.date(2021, 2, 1))] == (Decimal("0.5"), Decimal(45000))


def test_an_unchanged_row_is_skipped(staff_client, tenant_a):
    org, measure = tenant_a.organization.name, tenant_a.measure.name
    text = f"{HEADER}\n{org},{measure},2020-10-01,2,50000,\n"
    response = upload(staff_client, text.encode())
    assert offers_confirm(response), messages_of(response)
    assert response.context["result"].totals["skip"] == 1


# Bad rows: nothing saved, every bad row with its line and reason
# ------------------------------------------------------------------------------


def test_a_file_with_bad_rows_saves_nothing_and_lists_each(staff_client, tenant_a, tenant_b):
    org, measure = tenant_a.organization.name, tenant_a.measure.name
    text = "\n".join(
        [
            HEADER,
            f"{org},{measure},2020-11-01,1,48000,",  # line 2: good
            f"Nowhere General,{measure},2020-12-01,1,48000,",  # 3
            f"{org},{measure},Q1 2021,1,48000,",  # 4: a quarter, monthly measure
            f"{org},{measure},2021-01-01,1,,",  # 5: a rate without denominator
            f"{org},{measure},2020-11-01,4,48000,",  # 6: line 2 again
            f"{org},No such measure,2020-11-01,1,48000,",  # 7
            f"{org},{measure},2021-02-01,x,48000,",  # 8
            f"{org},{measure},2040-01-01,1,48000,",  # 9: not ended yet
            f"{org},{measure},2021-03-01,1,0,",  # 10
        ]
    )
    before = all_counts()
    response = upload(staff_client, text.encode())
    assert response.status_code == 200
    assert not offers_confirm(response)
    found = messages_of(response)
    expected = [
        "Line 3: no organization named 'Nowhere General' in this alliance",
        "Line 4: period_start: “Q1 2021” is a quarter, but this measure is reported monthly",
        "Line 5: denominator: Enter the hours worked.",
        f"Line 6: {org}, {measure}, Nov 2020 is also on line 2",
        "Line 7: no measure named 'No such measure' in this alliance",
        "Line 8: numerator: “x” is not a number.",
        "Line 9: period_start: Jan 2040 has not ended yet",
        "Line 10: The denominator must be more than zero.",
    ]
    for reason in expected:
        assert any(text.startswith(reason) for text in found), (reason, "\n".join(found))
        assert reason in page(response)
    assert not any(text.startswith("Line 2") for text in found)
    # The preview's table numbers the rows as the messages do.
    assert [row.number + 1 for row in response.context["result"].invalid_rows] == list(range(3, 11))
    assert "Confirm import" not in page(response)
    assert all_counts() == before


def test_missing_columns_are_reported(staff_client, tenant_a):
    before = all_counts()
    response = upload(staff_client, b"organization,period_start,numerator\nA,2020-11,1\n")
    assert not offers_confirm(response)
    assert "the file has no 'measure' column" in page(response)
    assert all_counts() == before


def test_values_the_measure_does_not_take_are_row_errors(staff_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        count = MeasureFactory(
            alliance=tenant_a.alliance,
            workgroup=tenant_a.workgroup,
            kind=Measure.Kind.COUNT,
            name="Falls",
        )
    org = tenant_a.organization.name
    text = f"{HEADER},achieved\n{org},Falls,2020-11,3,100,,\n{org},Falls,2020-12,3,,,yes\n"
    response = upload(staff_client, text.encode())
    assert not offers_confirm(response)
    found = messages_of(response)
    assert any(
        t.startswith("Line 2: denominator: Falls (count) takes no denominator") for t in found
    )
    assert any(t.startswith("Line 3: achieved: Falls is not a milestone") for t in found)
    with scope(alliance=tenant_a.alliance):
        assert not Reading.objects.filter(measure=count).exists()


def test_a_row_that_turns_bad_before_confirm_saves_nothing(staff_client, tenant_a):
    response = upload(staff_client, good_csv(tenant_a).encode())
    assert offers_confirm(response)
    before = all_counts()
    with scope(alliance=tenant_a.alliance):  # the organization leaves the workgroup meanwhile
        Participation.objects.filter(organization=tenant_a.organization).delete()
    response = confirm(staff_client, response)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:workgroups_reading_import")
    assert all_counts() == before
    assert readings(tenant_a.alliance)[
        (tenant_a.organization.name, tenant_a.measure.name, datetime.date(2020, 10, 1))
    ] == (Decimal(2), Decimal(50000))


# Another alliance's names and ids
# ------------------------------------------------------------------------------


def test_the_other_alliances_organization_and_measure_are_row_errors(
    staff_client, tenant_a, tenant_b
):
    org, measure = tenant_a.organization.name, tenant_a.measure.name
    text = "\n".join(
        [
            HEADER,
            f"{org},{measure},2020-11-01,1,48000,",
            f"{tenant_b.organization.name},{measure},2020-11-01,1,48000,",
            f"{org},{tenant_b.measure.name},2020-11-01,1,48000,",
            f"{org},{tenant_b.measure.pk},2020-12-01,1,48000,",
        ]
    )
    before, b_before = all_counts(), readings(tenant_b.alliance)
    response = upload(staff_client, text.encode())
    assert not offers_confirm(response)
    found = messages_of(response)
    for reason in (
        "Line 3: no organization named 'Organization of bravo' in this alliance",
        "Line 4: no measure named 'OSHA rate of bravo' in this alliance",
        f"Line 5: no measure with id {tenant_b.measure.pk} in this alliance",
    ):
        assert any(t.startswith(reason) for t in found), (reason, found)
    assert all_counts() == before
    assert readings(tenant_b.alliance) == b_before


def test_staff_of_two_alliances_import_into_the_one_they_choose(
    client, tenant_a, tenant_b, totp_for
):
    from members.models import Role
    from tests.factories import AllianceFactory, MembershipFactory

    charlie = AllianceFactory(slug="charlie")
    MembershipFactory(alliance=charlie, user=tenant_a.staff, role=Role.ALLIANCE_STAFF)
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    before = all_counts()
    data = {
        "resource": "0",
        "format": CSV,
        "alliance": charlie.pk,
        "import_file": SimpleUploadedFile("r.csv", good_csv(tenant_a).encode()),
    }
    response = client.post(reverse("admin:workgroups_reading_import"), data)
    assert not offers_confirm(response)
    assert "no organization named 'Organization of alpha' in this alliance" in page(response)
    data["alliance"] = tenant_b.alliance.pk
    data["import_file"] = SimpleUploadedFile("r.csv", good_csv(tenant_a).encode())
    response = client.post(reverse("admin:workgroups_reading_import"), data)
    assert "Select a valid choice" in response.context["form"].errors["alliance"][0]
    assert all_counts() == before


# Export
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [CSV, XLSX])
def test_export_holds_only_the_staff_users_alliance(staff_client, tenant_a, tenant_b, fmt, caplog):
    url = reverse("admin:workgroups_reading_export")
    assert staff_client.get(url).status_code == 200
    with caplog.at_level(logging.INFO, logger="members.resources"):
        response = staff_client.post(url, {"resource": "0", "format": fmt})
    assert response.status_code == 200
    if fmt == CSV:
        rows = [line.split(",") for line in response.content.decode().splitlines()]
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[("" if v is None else str(v)) for v in row] for row in sheet.values]
    assert rows[0] == [
        "organization",
        "measure",
        "period_start",
        "numerator",
        "denominator",
        "achieved",
        "note",
    ]
    assert rows[1][:5] == ["Organization of alpha", "OSHA rate of alpha", rows[1][2], "2", "50000"]
    assert rows[1][2].startswith("2020-10-01")
    exported = str(rows)
    for b_value in (tenant_b.organization.name, tenant_b.measure.name):
        assert b_value not in exported
    assert len(rows) == 2
    [line] = [r.getMessage() for r in caplog.records if "admin export" in r.getMessage()]
    assert f"user={tenant_a.staff.pk} alliance={tenant_a.alliance.slug} rows=1" in line


def test_an_exported_file_imports_back_unchanged(staff_client, tenant_a):
    exported = staff_client.post(
        reverse("admin:workgroups_reading_export"), {"resource": "0", "format": CSV}
    ).content
    response = upload(staff_client, exported)
    assert offers_confirm(response), messages_of(response)
    assert response.context["result"].totals["skip"] == 1


# Deleting
# ------------------------------------------------------------------------------


def test_a_measure_with_readings_is_not_deleted(superuser_client, tenant_a):
    url = reverse("admin:workgroups_measure_delete", args=[tenant_a.measure.pk])
    response = superuser_client.post(url, {"post": "yes"}, follow=True)
    assert "has readings: a measure with reported data cannot be deleted" in page(response)
    response = superuser_client.post(
        reverse("admin:workgroups_measure_changelist"),
        {"action": "delete_selected", "_selected_action": [tenant_a.measure.pk]},
        follow=True,
    )
    assert "has readings" in page(response)
    with scope(alliance=tenant_a.alliance):
        assert Measure.objects.filter(pk=tenant_a.measure.pk).exists()


def test_a_measure_without_dependents_can_be_deleted(superuser_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        spare = MeasureFactory(alliance=tenant_a.alliance, workgroup=tenant_a.workgroup)
    url = reverse("admin:workgroups_measure_delete", args=[spare.pk])
    assert superuser_client.post(url, {"post": "yes"}).status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert not Measure.objects.filter(pk=spare.pk).exists()


def test_a_workgroup_with_measures_is_not_deleted(superuser_client, tenant_a):
    url = reverse("admin:workgroups_workgroup_delete", args=[tenant_a.workgroup.pk])
    response = superuser_client.get(url, follow=True)
    assert "has measures: it cannot be deleted. Set its status to Completed" in page(response)
    response = superuser_client.post(
        reverse("admin:workgroups_workgroup_changelist"),
        {"action": "delete_selected", "_selected_action": [tenant_a.workgroup.pk]},
        follow=True,
    )
    assert "has measures" in page(response)
    with scope(alliance=tenant_a.alliance):
        assert Workgroup.objects.filter(pk=tenant_a.workgroup.pk).exists()


# Pages
# ------------------------------------------------------------------------------


def test_workgroup_inlines_show_only_its_own_rows(staff_client, tenant_a, tenant_b):
    with scope(alliance=tenant_a.alliance):
        # Another workgroup of A: its rows are not this workgroup's either.
        other = FocusAreaFactory(
            workgroup=MeasureFactory(alliance=tenant_a.alliance).workgroup, title="Elsewhere"
        )
    response = staff_client.get(
        reverse("admin:workgroups_workgroup_change", args=[tenant_a.workgroup.pk])
    )
    assert response.status_code == 200
    text = page(response)
    for a_value in ("Focus of alpha", "OSHA rate of alpha"):
        assert a_value in text
    assert 'value="' + str(tenant_a.organization.pk) + '"' in text  # the participant
    for hidden in (other.title, "Focus of bravo", "OSHA rate of bravo", "Organization of bravo"):
        assert hidden not in text
    inline_rows = {
        formset.formset.model: list(formset.formset.get_queryset())
        for formset in response.context["inline_admin_formsets"]
    }
    with scope(alliance=tenant_a.alliance):
        assert inline_rows[FocusArea] == list(tenant_a.workgroup.focus_areas.all())
        assert inline_rows[Measure] == [tenant_a.measure]
        assert [p.organization for p in inline_rows[Participation]] == [tenant_a.organization]


def test_a_new_measure_in_the_inline_takes_the_workgroups_alliance(superuser_client, tenant_a):
    url = reverse("admin:workgroups_workgroup_change", args=[tenant_a.workgroup.pk])
    form = superuser_client.get(url).context["adminform"].form
    data = {
        "alliance": tenant_a.alliance.pk,
        "program_year": tenant_a.program_year.pk,
        "name": tenant_a.workgroup.name,
        "slug": tenant_a.workgroup.slug,
        "status": "active",
    }
    assert set(data) <= set(form.fields)
    with scope(alliance=tenant_a.alliance):
        focus = FocusArea.objects.get(workgroup=tenant_a.workgroup)
        participation = Participation.objects.get(workgroup=tenant_a.workgroup)
    formsets = {
        "focus_areas": [{"id": focus.pk, "order": 1, "title": focus.title}],
        "participations": [
            {
                "id": participation.pk,
                "organization": tenant_a.organization.pk,
                "joined_on": "2020-10-01",
            }
        ],
        "measures": [
            {
                "id": tenant_a.measure.pk,
                "name": tenant_a.measure.name,
                "kind": "rate",
                "period": "monthly",
                "direction": "lower",
                "first_period": "2020-10-01",
            },
            {
                "name": "Lost days",
                "kind": "count",
                "period": "monthly",
                "direction": "lower",
                "first_period": "2020-10-01",
            },
        ],
    }
    for prefix, rows in formsets.items():
        initial = sum(1 for row in rows if "id" in row)
        data |= {
            f"{prefix}-TOTAL_FORMS": len(rows),
            f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
        for i, row in enumerate(rows):
            data |= {f"{prefix}-{i}-{k}": v for k, v in row.items()}
            data[f"{prefix}-{i}-workgroup"] = tenant_a.workgroup.pk
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    with scope(alliance=tenant_a.alliance):
        new = Measure.objects.get(name="Lost days")
    assert (new.alliance, new.workgroup) == (tenant_a.alliance, tenant_a.workgroup)


def test_completeness_board_is_linked(staff_client, tenant_a):
    board = reverse(
        "workgroups:completeness",
        kwargs={"alliance_slug": tenant_a.alliance.slug, "workgroup_slug": tenant_a.workgroup.slug},
    )
    change = staff_client.get(
        reverse("admin:workgroups_workgroup_change", args=[tenant_a.workgroup.pk])
    )
    assert f'href="{board}"' in change.content.decode()
    changelist = staff_client.get(reverse("admin:workgroups_workgroup_changelist"))
    assert f'href="{board}"' in changelist.content.decode()
    assert staff_client.get(board).status_code == 200  # staff may see the board


def test_measure_page_has_its_aim_inline(staff_client, tenant_a):
    response = staff_client.get(
        reverse("admin:workgroups_measure_change", args=[tenant_a.measure.pk])
    )
    assert response.status_code == 200
    assert "Reduce injuries at alpha" in page(response)


@pytest.mark.parametrize(
    ("model", "a_text", "b_text"),
    [
        ("participation", "Organization of alpha", "Organization of bravo"),
        ("focusarea", "Focus of alpha", "Focus of bravo"),
        ("goal", "Zero harm goal", None),
        ("readingrevision", "OSHA rate of alpha", "OSHA rate of bravo"),
        ("baselinechange", "Reduce injuries at alpha", "Reduce injuries at bravo"),
    ],
)
def test_new_changelists_show_only_the_staff_users_alliance(
    staff_client, tenant_a, tenant_b, model, a_text, b_text
):
    for tenant in (tenant_a, tenant_b):
        with scope(alliance=tenant.alliance):
            ReadingRevision.objects.create(
                alliance=tenant.alliance,
                reading=tenant.reading,
                numerator=1,
                denominator=40000,
                changed_by=tenant.staff,
            )
            BaselineChange.objects.create(
                alliance=tenant.alliance,
                aim=tenant.aim,
                old_value=4,
                new_value=5,
                reason="Late data",
                changed_by=tenant.staff,
            )
    response = staff_client.get(reverse(f"admin:workgroups_{model}_changelist"))
    assert response.status_code == 200
    assert a_text in page(response)
    if b_text:
        assert b_text not in page(response)
    assert response.context["cl"].result_count == 1


@pytest.mark.parametrize("model", ["readingrevision", "baselinechange"])
def test_history_admins_are_view_only(staff_client, superuser_client, tenant_a, model):
    assert staff_client.get(reverse(f"admin:workgroups_{model}_add")).status_code == 403


def test_a_participation_needs_an_organization_of_the_workgroups_alliance(
    superuser_client, tenant_a, tenant_b
):
    response = superuser_client.post(
        reverse("admin:workgroups_participation_add"),
        {
            "workgroup": tenant_a.workgroup.pk,
            "organization": tenant_b.organization.pk,
            "joined_on": "2020-10-01",
        },
    )
    assert response.status_code == 200
    assert "Choose an organization of this alliance." in page(response)
    with scope(alliance=tenant_a.alliance):
        assert not Participation.objects.filter(organization=tenant_b.organization).exists()


def test_organization_factory_rows_of_b_are_not_offered_for_participation(
    staff_client, tenant_a, tenant_b
):
    with scope(alliance=tenant_b.alliance):
        OrganizationFactory(alliance=tenant_b.alliance, name="Bravo Clinic")
        ParticipationFactory(workgroup=tenant_b.workgroup)
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "workgroups",
            "model_name": "participation",
            "field_name": "organization",
            "term": "",
        },
    )
    assert response.status_code == 200
    names = {row["text"] for row in response.json()["results"]}
    assert "Organization of alpha" in names
    assert not {"Bravo Clinic", "Organization of bravo"} & names


def test_a_file_over_the_row_limit_is_refused_with_one_message(staff_client, tenant_a, monkeypatch):
    monkeypatch.setattr("workgroups.resources.MAX_ROWS", 2)
    org, measure = tenant_a.organization.name, tenant_a.measure.name
    rows = [f"{org},{measure},2020-{month}-01,1,48000," for month in (11, 12)]
    rows.append(f"{org},{measure},2021-01-01,1,48000,")
    before = all_counts()
    response = upload(staff_client, "\n".join([HEADER, *rows]).encode())
    assert not offers_confirm(response)
    assert messages_of(response) == [
        "Line 2: the file has 3 rows; the limit is 2: split it into smaller files"
    ]
    assert all_counts() == before


def test_reopening_goal_sets_is_in_their_history(staff_client, tenant_a, tenant_b):
    from django.utils import timezone
    from django_scopes import scope

    goal_sets = [tenant_a.goal.goal_set, tenant_b.goal.goal_set]
    for goal_set in goal_sets:
        with scope(alliance=goal_set.alliance):
            goal_set.submitted_at = timezone.now()
            goal_set.save()
    staff_client.post(
        reverse("admin:workgroups_goalset_changelist"),
        {"action": "reopen", "_selected_action": [str(g.pk) for g in goal_sets]},
    )
    ours, theirs = goal_sets
    with scope(alliance=ours.alliance):
        ours.refresh_from_db()
        assert ours.submitted_at is None
        assert ours.history.latest().history_user == tenant_a.staff
    with scope(alliance=theirs.alliance):
        theirs.refresh_from_db()
        assert theirs.submitted_at is not None  # another alliance's id changed nothing
