"""CSV upload of many readings of one measure (issue 5, item 4).

A file is previewed first; "Save N readings" saves every row in one transaction.
A bad row shows its line and reason, no confirm button is offered, and nothing
is saved. The confirmation carries the file signed for this measure and user and
re-checks it; the uploader reports only for whom they may report.
"""

import datetime
import html
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from members.models import Role
from tests.factories import (
    MeasureFactory,
    MembershipFactory,
    ParticipationFactory,
    WorkgroupFactory,
)
from tests.guardrails.snapshot import tenant_rows
from workgroups import imports, services
from workgroups.models import Measure, Reading, ReadingRevision

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    "organization,period,numerator,denominator,note\n"
    "organization of ALPHA,2020-11,3,51000,\n"
    "Organization of alpha,Dec 2020,1,49000.5,Winter staffing\n"
    "  Organization  of alpha ,2021-01-01,0,50000,\n"
)


def upload_url(tenant, measure=None) -> str:
    measure = measure or tenant.measure
    return reverse(
        "workgroups:upload",
        kwargs={"alliance_slug": tenant.alliance.slug, "measure_id": measure.pk},
    )


def report_url(tenant, measure=None) -> str:
    measure = measure or tenant.measure
    return reverse(
        "workgroups:report",
        kwargs={"alliance_slug": tenant.alliance.slug, "measure_id": measure.pk},
    )


def preview(client, url, text, *, encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return client.post(url, {"file": SimpleUploadedFile("readings.csv", data, "text/csv")})


def confirm(client, url, response, **override):
    """Post the confirm form the preview offered, as the browser does."""
    return client.post(url, {"payload": response.context["payload"], **override})


def page(response) -> str:
    return html.unescape(response.content.decode())


def offers_confirm(response) -> bool:
    return bool(response.context["payload"]) and 'name="payload"' in response.content.decode()


def problems(response) -> list[str]:
    preview = response.context["preview"]
    if preview is None:
        return [str(response.context["form"].errors)]
    return preview.problems


def readings(alliance, **filters) -> list[Reading]:
    with scope(alliance=alliance):
        return list(Reading.objects.filter(**filters).order_by("measure", "period_start", "pk"))


@pytest.fixture
def member(client, tenant_a):
    client.force_login(tenant_a.member)
    return client


@pytest.fixture
def staff(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def percentage_measure(tenant) -> Measure:
    return MeasureFactory(
        alliance=tenant.alliance,
        workgroup=tenant.workgroup,
        name="Patients screened",
        kind=Measure.Kind.PERCENTAGE,
        multiplier=Decimal(1),
        unit="%",
        numerator_label="Patients screened",
        denominator_label="Patients seen",
    )


# Good files
# ------------------------------------------------------------------------------


def test_a_good_file_previews_then_saves_every_reading_as_the_uploader(member, tenant_a):
    url = upload_url(tenant_a)
    assert "Upload a CSV of several periods" in page(member.get(report_url(tenant_a)))
    response = member.get(url)
    assert response.status_code == 200
    assert 'accept=".csv,text/csv"' in response.content.decode()
    assert "organization,period,numerator,denominator,note" in page(response)  # the guide

    before = readings(tenant_a.alliance)
    response = preview(member, url, GOOD_CSV)
    assert response.status_code == 200
    assert offers_confirm(response), problems(response)
    text = page(response)
    assert "Save 3 readings" in text
    assert "Nov 2020" in text and "Dec 2020" in text and "Jan 2021" in text
    assert [row.line for row in response.context["preview"].rows] == [2, 3, 4]
    assert [row.action for row in response.context["preview"].rows] == ["create"] * 3
    assert readings(tenant_a.alliance) == before, "the preview saved something"

    response = confirm(member, url, response)
    assert response.status_code == 302
    assert response["Location"] == report_url(tenant_a)
    assert "Saved 3 readings." in page(member.get(response["Location"]))
    saved = readings(tenant_a.alliance, period_start__gt=datetime.date(2020, 10, 1))
    assert [
        (r.organization, r.period_start, r.numerator, r.denominator, r.note) for r in saved
    ] == [
        (tenant_a.organization, datetime.date(2020, 11, 1), 3, 51000, ""),
        (
            tenant_a.organization,
            datetime.date(2020, 12, 1),
            1,
            Decimal("49000.5"),
            "Winter staffing",
        ),
        (tenant_a.organization, datetime.date(2021, 1, 1), 0, 50000, ""),
    ]
    assert {(r.entered_by, r.updated_by, r.measure) for r in saved} == {
        (tenant_a.member, tenant_a.member, tenant_a.measure)
    }


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        pytest.param(
            "Organization;Period;Numerator;Denominator\r\n"
            "Organization of alpha;2020-11;3;51000\r\n"
            "\r\n"
            "Organization of alpha;Dec 2020;1;49000\r\n",
            "utf-8",
            id="semicolons-crlf-blank-line",
        ),
        pytest.param(
            "NOTE,Denominator,Numerator,Period,ORGANIZATION\n"
            '"Hires, and ""new"" training",51000,3,Nov 2020,Organization of alpha\n'
            ",49000,1,2020-12-01,Organization of alpha\n",
            "utf-8-sig",
            id="bom-any-order-quoted-note",
        ),
        pytest.param(
            "\ufefforganization;period;numerator;denominator;note\n"
            "Organization of alpha;november 2020;3;51000;\n"
            "Organization of alpha;2020/12;1;49000;Café: naïve ünïcode\n",
            "utf-8",
            id="bom-semicolons-unicode",
        ),
    ],
)
def test_semicolon_and_bom_files(member, tenant_a, text, encoding):
    url = upload_url(tenant_a)
    response = preview(member, url, text, encoding=encoding)
    assert offers_confirm(response), problems(response)
    assert "Save 2 readings" in page(response)
    assert confirm(member, url, response).status_code == 302
    saved = readings(tenant_a.alliance, period_start__gt=datetime.date(2020, 10, 1))
    assert [(r.period_start, r.numerator, r.denominator) for r in saved] == [
        (datetime.date(2020, 11, 1), 3, 51000),
        (datetime.date(2020, 12, 1), 1, 49000),
    ]


def test_quarterly_labels_for_a_quarterly_measure(member, tenant_a):
    measure = MeasureFactory(
        alliance=tenant_a.alliance,
        workgroup=tenant_a.workgroup,
        name="Quarterly DART rate",
        period=Measure.Period.QUARTERLY,
    )
    url = upload_url(tenant_a, measure)
    text = (
        "organization,period,numerator,denominator\n"
        "Organization of alpha,Q4 2020,2,150000\n"
        "Organization of alpha,2021 q1,1,149000\n"
        "Organization of alpha,2021-05,0,151000\n"  # any month names its quarter
    )
    response = preview(member, url, text)
    assert offers_confirm(response), problems(response)
    assert all(q in page(response) for q in ("Q4 2020", "Q1 2021", "Q2 2021"))
    assert confirm(member, url, response).status_code == 302
    assert [r.period_start for r in readings(tenant_a.alliance, measure=measure)] == [
        datetime.date(2020, 10, 1),
        datetime.date(2021, 1, 1),
        datetime.date(2021, 4, 1),
    ]

    # A quarter for a monthly measure is an error, not a guess.
    response = preview(
        member,
        upload_url(tenant_a),
        "organization,period,numerator,denominator\nOrganization of alpha,Q1 2021,1,1000\n",
    )
    assert not offers_confirm(response)
    assert "Line 2: “Q1 2021” is a quarter, but this measure is reported monthly" in page(response)


def test_a_milestone_measure_takes_yes_or_no(member, tenant_a):
    measure = MeasureFactory(
        alliance=tenant_a.alliance,
        workgroup=tenant_a.workgroup,
        name="Redesign progress",
        kind=Measure.Kind.MILESTONE,
    )
    url = upload_url(tenant_a, measure)
    text = (
        "organization,period,achieved\n"
        "Organization of alpha,2020-11,Yes\n"
        "Organization of alpha,2020-12,0\n"
        "Organization of alpha,2021-01,maybe\n"
    )
    response = preview(member, url, text)
    assert not offers_confirm(response)
    assert problems(response) == ["Line 4: achieved: “maybe” is not yes or no."]

    response = preview(member, url, text.rsplit("\n", 2)[0] + "\n")
    assert offers_confirm(response), problems(response)
    assert confirm(member, url, response).status_code == 302
    assert [(r.achieved, r.numerator) for r in readings(tenant_a.alliance, measure=measure)] == [
        (True, None),
        (False, None),
    ]


# Bad rows: every line and reason shown, nothing saved
# ------------------------------------------------------------------------------


def test_a_bad_row_of_every_kind_is_reported_and_nothing_is_saved(member, tenant_a):
    measure = percentage_measure(tenant_a)
    url = upload_url(tenant_a, measure)
    text = "\n".join(
        [
            "organization,period,numerator,denominator,note",  # line 1
            "Organization of alpha,2020-11,40,50,",  # 2: good
            "Nowhere Clinic,2020-12,40,50,",  # 3: unknown organization
            "Organization of alpha,Mar 2031,40,50,",  # 4: has not ended
            "Organization of alpha,2021-01,40,0,",  # 5: denominator 0
            "",  # 6: blank, ignored
            "Organization of alpha,2021-02,60,50,",  # 7: numerator > denominator
            "Organization of alpha,Nov 2020,41,50,",  # 8: same as line 2
            "Organization of alpha,2021-03,lots,50,",  # 9: not a number
            "Organization of alpha,someday,40,50,",  # 10: not a period
            "Organization of alpha,2021-04,40,50,",  # 11: good
        ]
    )
    before = tenant_rows(tenant_a.alliance)
    response = preview(member, url, text)
    assert response.status_code == 200
    assert not offers_confirm(response)
    shown = page(response)
    expected = [
        "Line 3: There is no organization named “Nowhere Clinic” in this alliance.",
        "Line 4: Mar 2031 has not ended yet; it can be reported from 1 April 2031.",
        "Line 5: denominator: The denominator must be more than zero.",
        "Line 7: numerator: The patients screened cannot exceed the patients seen "
        "for a percentage.",
        "Line 8: Organization of alpha, Nov 2020 is also on line 2.",
        "Line 9: numerator: “lots” is not a number.",
        "Line 10: “someday” is not a period; use e.g. 2021-03, 2021-03-01 or Mar 2021.",
    ]
    assert problems(response) == expected
    for message in expected:
        assert message in shown
    rows = response.context["preview"].rows
    assert [row.line for row in rows] == [2, 3, 4, 5, 7, 8, 9, 10, 11]
    assert [row.line for row in rows if not row.errors] == [2, 11]

    # The service refuses such a preview too, whoever calls it.
    with scope(alliance=tenant_a.alliance), pytest.raises(ValidationError):
        services.readings_import(measure=measure, by=tenant_a.member, rows=rows)
    assert tenant_rows(tenant_a.alliance) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("\n\n  \n", "The file is empty."),
        ("organization,period,numerator\n", "the “denominator” column is missing"),
        ("organization,period,numerator,denominator\n", "The file has a header but no readings."),
        (
            "organization,period,numerator,denominator,colour\n"
            "Organization of alpha,2020-11,1,2,\n",
            "Line 1: unknown column “colour”. The columns are: organization, period, "
            "numerator, denominator, note.",
        ),
        (
            "organization,period,numerator,denominator,achieved\n",
            "Line 1: this measure (rate) takes no “achieved” column.",
        ),
        (
            'organization,period,numerator,denominator\nOrganization of alpha,2020-11,1,"2\n',
            "Line 2: the file cannot be read",
        ),
        (
            "organization,period,numerator,denominator\nOrganization of alpha,2020-11,1,2,3\n",
            "Line 2: Column 5 has a value but no header",
        ),
        (
            'organization,period,numerator,denominator\nOrganization of alpha,2020-11,"1,500",2\n',
            "Line 2: numerator: write “1,500” without commas",
        ),
        (
            "organization,period,numerator,denominator\nOrganization of alpha,2020-11,1e9,NaN\n",
            "Line 2: numerator: “1e9” is not a number. denominator: “NaN” is not a number.",
        ),
        (
            "organization,period,numerator,denominator\n"
            "Organization of alpha,2020-11,1234567890123,1.23456\n",
            "Line 2: numerator: “1234567890123” is too large (at most 12 digits before the "
            "decimal point). denominator: use at most 4 decimal places.",
        ),
        (
            "organization,period,numerator,denominator\nOrganization of alpha,2021-02-30,-1,2\n",
            "Line 2: “2021-02-30” is not a date; use e.g. 2021-03, 2021-03-01 or Mar 2021. "
            "numerator: Enter zero or more.",
        ),
        (
            "organization,period,numerator,denominator\nOrganization of alpha,2019-05,,\n",
            "Line 2: Data for this measure starts in Oct 2020. numerator: Enter the recordable "
            "injuries. denominator: Enter the hours worked.",
        ),
        (
            "organization,period,numerator,denominator\nOrganization of alpha,2021-10,1,2\n",
            "Line 2: Oct 2021 is after this workgroup's program year ends.",
        ),
        (
            "organization,period,numerator,denominator\n,2020-11,1,2\n",
            "Line 2: Enter the organization.",
        ),
        (
            "organization,period,numerator,denominator\nNope,Mar 2031,x,0\n",
            "Line 2: There is no organization named “Nope” in this alliance. Mar 2031 has not "
            "ended yet; it can be reported from 1 April 2031. numerator: “x” is not a number. "
            "denominator: The denominator must be more than zero.",
        ),
    ],
)
def test_file_and_value_problems_are_explained(member, tenant_a, text, message):
    before = readings(tenant_a.alliance)
    response = preview(member, upload_url(tenant_a), text)
    assert response.status_code == 200
    assert not offers_confirm(response)
    assert message in page(response), problems(response)
    assert readings(tenant_a.alliance) == before


def test_files_that_are_not_utf8_csv_are_refused_with_a_reason(member, tenant_a):
    url = upload_url(tenant_a)
    response = preview(member, url, "organization,period\nCafé,2020-11\n", encoding="latin-1")
    assert "The file is not UTF-8 text" in page(response)
    response = preview(member, url, b"PK\x03\x04 a spreadsheet")
    assert "This looks like a spreadsheet workbook" in page(response)
    response = preview(member, url, b"organization,period\x00\n")
    assert "binary data (NUL bytes)" in page(response)
    response = member.post(url, {"file": "not a file"})
    assert response.status_code == 200
    assert "Choose a CSV file to upload." in page(response)
    assert not offers_confirm(response)


def test_limits_of_rows_and_size(member, tenant_a):
    url = upload_url(tenant_a)
    header = "organization,period,numerator,denominator\n"
    rows = "Organization of alpha,2020-11,1,2\n" * (imports.MAX_ROWS + 1)
    response = preview(member, url, header + rows)
    assert "The file has more than 5,000 rows. Split it into smaller files." in page(response)
    assert not offers_confirm(response)

    big = header + "Organization of alpha,2020-11,1,2," + "x" * imports.MAX_BYTES + "\n"
    response = preview(member, url, big)
    assert "the limit is 2 MB" in page(response)
    assert not offers_confirm(response)


def test_five_thousand_rows_are_checked_in_one_file(tenant_a):
    """The limit itself is accepted; duplicates among many rows are found."""
    header = "organization,period,numerator,denominator\n"
    rows = "Organization of alpha,2020-11,1,2\n" * imports.MAX_ROWS
    with scope(alliance=tenant_a.alliance):
        preview = imports.parse_readings(
            measure=tenant_a.measure, by=tenant_a.member, text=header + rows
        )
    assert preview.errors == []
    assert len(preview.rows) == imports.MAX_ROWS
    assert preview.rows[0].errors == []
    assert preview.rows[-1].errors == ["Organization of alpha, Nov 2020 is also on line 2."]
    assert preview.rows[-1].line == imports.MAX_ROWS + 1


# Corrections
# ------------------------------------------------------------------------------


def test_an_update_is_previewed_as_a_correction_and_keeps_a_revision(member, tenant_a):
    existing = tenant_a.reading  # Oct 2020: 2 ÷ 50000
    url = upload_url(tenant_a)
    text = (
        "organization,period,numerator,denominator,note\n"
        "Organization of alpha,Oct 2020,3,50000,Recount\n"
        "Organization of alpha,Nov 2020,1,50000,\n"
    )
    response = preview(member, url, text)
    assert offers_confirm(response), problems(response)
    rows = response.context["preview"].rows
    assert [row.action for row in rows] == ["update", "create"]
    assert rows[0].existing.pk == existing.pk
    assert "Correction; was 2 ÷ 50000" in page(response)
    assert "1 new, 1 correction" in page(response)

    assert confirm(member, url, response).status_code == 302
    with scope(alliance=tenant_a.alliance):
        existing.refresh_from_db()
        [revision] = ReadingRevision.objects.filter(reading=existing)
    assert (existing.numerator, existing.note, existing.updated_by) == (
        3,
        "Recount",
        tenant_a.member,
    )
    assert (revision.numerator, revision.denominator, revision.note) == (2, 50000, "")
    assert revision.changed_by == tenant_a.member
    assert len(readings(tenant_a.alliance, measure=tenant_a.measure)) == 2


def test_an_unchanged_row_is_previewed_as_unchanged(member, tenant_a):
    text = "organization,period,numerator,denominator\nOrganization of alpha,2020-10,2,50000.00\n"
    response = preview(member, upload_url(tenant_a), text)
    assert [row.action for row in response.context["preview"].rows] == ["unchanged"]
    assert "Unchanged" in page(response)


# Who may upload for whom
# ------------------------------------------------------------------------------


def test_a_member_cannot_upload_for_another_organization(member, tenant_a):
    other = ParticipationFactory(workgroup=tenant_a.workgroup).organization
    url = upload_url(tenant_a)
    text = (
        "organization,period,numerator,denominator\n"
        "Organization of alpha,2020-11,1,50000\n"
        f"{other.name},2020-11,1,50000\n"
    )
    before = tenant_rows(tenant_a.alliance)
    response = preview(member, url, text)
    assert not offers_confirm(response)
    assert problems(response) == [
        f"Line 3: You cannot report for {other.name}; you report for Organization of alpha."
    ]
    # A forged preview is refused by the service as well.
    with scope(alliance=tenant_a.alliance):
        row = imports.ImportRow(
            line=2,
            cells={},
            organization=other,
            period_start=datetime.date(2020, 11, 1),
            numerator=Decimal(1),
            denominator=Decimal(50000),
        )
        with pytest.raises(ValidationError, match="you cannot report for"):
            services.readings_import(measure=tenant_a.measure, by=tenant_a.member, rows=[row])
    assert tenant_rows(tenant_a.alliance) == before


def test_a_member_cannot_upload_for_a_workgroup_their_organization_is_not_in(member, tenant_a):
    workgroup = WorkgroupFactory(alliance=tenant_a.alliance, program_year=tenant_a.program_year)
    ParticipationFactory(workgroup=workgroup)  # somebody else's workgroup
    measure = MeasureFactory(alliance=tenant_a.alliance, workgroup=workgroup, name="Not ours")
    url = upload_url(tenant_a, measure)
    before = tenant_rows(tenant_a.alliance)
    assert member.get(url).status_code == 403
    text = "organization,period,numerator,denominator\nOrganization of alpha,2020-11,1,50000\n"
    assert preview(member, url, text).status_code == 403
    assert tenant_rows(tenant_a.alliance) == before


def test_a_trustee_cannot_upload(client, tenant_a):
    trustee = MembershipFactory(
        alliance=tenant_a.alliance, organization=tenant_a.organization, role=Role.TRUSTEE
    ).user
    client.force_login(trustee)
    assert client.get(upload_url(tenant_a)).status_code == 403


def test_staff_may_upload_for_participants_but_not_for_another_alliance(staff, tenant_a, tenant_b):
    url = upload_url(tenant_a)
    other = ParticipationFactory(workgroup=tenant_a.workgroup).organization
    b_before = tenant_rows(tenant_b.alliance)
    a_before = readings(tenant_a.alliance)
    text = (
        "organization,period,numerator,denominator\n"
        "Organization of alpha,2020-11,1,50000\n"
        "Organization of bravo,2020-11,1,50000\n"
    )
    response = preview(staff, url, text)
    assert not offers_confirm(response)
    assert problems(response) == [
        "Line 3: There is no organization named “Organization of bravo” in this alliance."
    ]
    assert readings(tenant_a.alliance) == a_before
    assert tenant_rows(tenant_b.alliance) == b_before

    text = (
        "organization,period,numerator,denominator\n"
        f"{other.name},2020-11,1,50000\n"
        "Organization of alpha,2020-11,2,50000\n"
    )
    response = preview(staff, url, text)
    assert offers_confirm(response), problems(response)
    response = confirm(staff, url, response)
    assert response.status_code == 302
    assert response["Location"] == f"{report_url(tenant_a)}?organization={other.pk}"
    saved = readings(tenant_a.alliance, period_start=datetime.date(2020, 11, 1))
    assert {(r.organization, r.entered_by) for r in saved} == {
        (other, tenant_a.staff),
        (tenant_a.organization, tenant_a.staff),
    }
    assert tenant_rows(tenant_b.alliance) == b_before


def test_another_alliances_measure_is_not_found(staff, tenant_a, tenant_b):
    url = reverse(
        "workgroups:upload",
        kwargs={"alliance_slug": tenant_a.alliance.slug, "measure_id": tenant_b.measure.pk},
    )
    assert staff.get(url).status_code == 404
    assert preview(staff, url, GOOD_CSV).status_code == 404


# The signed confirmation
# ------------------------------------------------------------------------------


def test_a_tampered_payload_is_refused_and_saves_nothing(member, tenant_a, tenant_b):
    url = upload_url(tenant_a)
    response = preview(member, url, GOOD_CSV)
    assert offers_confirm(response), problems(response)
    payload = response.context["payload"]

    with scope(alliance=tenant_a.alliance):
        other_measure = percentage_measure(tenant_a)
        forged = {
            "changed": payload[:-3] + ("AAA" if payload[-3:] != "AAA" else "BBB"),
            "unsigned": GOOD_CSV,
            "empty": "",
            # Signed, but for another measure or another user.
            "another measure": imports.sign_upload(
                GOOD_CSV, measure=other_measure, user=tenant_a.member
            ),
            "another user": imports.sign_upload(
                GOOD_CSV, measure=tenant_a.measure, user=tenant_a.staff
            ),
        }
    before = tenant_rows(tenant_a.alliance)
    for name, value in forged.items():
        response = member.post(url, {"payload": value})
        assert response.status_code == 400, name
        assert "This upload could not be checked" in page(response), name
    assert tenant_rows(tenant_a.alliance) == before


def test_an_expired_payload_is_refused(member, tenant_a, monkeypatch):
    url = upload_url(tenant_a)
    response = preview(member, url, GOOD_CSV)
    before = readings(tenant_a.alliance)
    monkeypatch.setattr(imports, "SIGNATURE_MAX_AGE", -1)
    response = confirm(member, url, response)
    assert response.status_code == 400
    assert readings(tenant_a.alliance) == before


def test_the_confirmation_checks_the_file_again(member, tenant_a):
    """Between preview and confirmation the data may change: re-checked, nothing saved."""
    url = upload_url(tenant_a)
    response = preview(member, url, GOOD_CSV)
    assert offers_confirm(response)
    with scope(alliance=tenant_a.alliance):
        tenant_a.workgroup.participations.all().delete()
    before = readings(tenant_a.alliance)
    response = confirm(member, url, response)
    # The member's organization no longer takes part: no upload at all.
    assert response.status_code == 403
    assert readings(tenant_a.alliance) == before


def test_the_confirmation_rechecks_rows_for_staff(staff, tenant_a):
    url = upload_url(tenant_a)
    response = preview(staff, url, GOOD_CSV)
    assert offers_confirm(response), problems(response)
    with scope(alliance=tenant_a.alliance):
        tenant_a.workgroup.participations.all().delete()
    before = readings(tenant_a.alliance)
    response = confirm(staff, url, response)
    assert response.status_code == 200
    text = page(response)
    assert "Something changed since the preview" in text
    assert "Line 2: Organization of alpha does not report OSHA rate of alpha." in text
    assert 'name="payload"' not in response.content.decode()
    assert readings(tenant_a.alliance) == before


# Parsing
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period", "expected"),
    [
        ("2021-03", "monthly", datetime.date(2021, 3, 1)),
        ("2021-03-01", "monthly", datetime.date(2021, 3, 1)),
        ("2021-03-17", "monthly", datetime.date(2021, 3, 1)),
        ("Mar 2021", "monthly", datetime.date(2021, 3, 1)),
        (" march  2021 ", "monthly", datetime.date(2021, 3, 1)),
        ("Sept 2021", "monthly", datetime.date(2021, 9, 1)),
        ("Q1 2021", "quarterly", datetime.date(2021, 1, 1)),
        ("q4-2020", "quarterly", datetime.date(2020, 10, 1)),
        ("2021Q2", "quarterly", datetime.date(2021, 4, 1)),
        ("2021-03", "quarterly", datetime.date(2021, 1, 1)),
        ("Aug 2021", "quarterly", datetime.date(2021, 7, 1)),
    ],
)
def test_parse_period(text, period, expected):
    assert imports.parse_period(text, period) == expected


@pytest.mark.parametrize(
    "text", ["", "2021", "21-03", "2021-13", "0000-01", "Mars 2021", "Q5 2021", "2021-02-30"]
)
def test_parse_period_refuses(text):
    with pytest.raises(ValueError, match=r"Enter the period|is not a (period|date)"):
        imports.parse_period(text, "quarterly")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("0", 0), ("12", 12), ("+3", 3), ("1.5", Decimal("1.5")), (".25", Decimal(".25"))],
)
def test_parse_number(text, expected):
    assert imports.parse_number(text, "numerator") == expected


def test_the_example_in_the_guide_is_a_valid_file(tenant_a):
    with scope(alliance=tenant_a.alliance):
        example = imports.example_csv(tenant_a.measure, tenant_a.organization.name)
        preview = imports.parse_readings(measure=tenant_a.measure, by=tenant_a.member, text=example)
    assert preview.ok, preview.problems
