"""Workgroups: readings and their validation, pages, peers, goals, proposals, aims."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from members.models import Role
from tests.factories import (
    GoalFactory,
    MeasureFactory,
    MembershipFactory,
    OrganizationFactory,
    ParticipationFactory,
    ReadingFactory,
)
from tests.guardrails.budgets import MEMBER_PAGE_BUDGET, query_count
from workgroups import services
from workgroups.models import FocusProposal, Measure, Reading, ReadingRevision, Workgroup

pytestmark = pytest.mark.django_db
NOV = datetime.date(2020, 11, 1)


def errors_of(tenant, measure=None, **values):
    """The validation messages for a reading with these values (by field)."""
    fields = {"period_start": NOV, "numerator": D(1), "denominator": D(1000), "achieved": None}
    fields.update(values)
    with scope(alliance=tenant.alliance):
        try:
            services.reading_validate(
                measure=measure or tenant.measure, organization=tenant.organization, **fields
            )
        except ValidationError as error:
            return {k: " ".join(v) for k, v in error.message_dict.items()}
    return {}


class TestValidation:
    def test_a_good_reading_passes(self, tenant_a):
        assert errors_of(tenant_a) == {}

    def test_periods(self, tenant_a):
        future = datetime.date.today().replace(day=1)
        assert "has not ended yet" in errors_of(tenant_a, period_start=future)["period_start"]
        assert (
            "starts in Oct 2020"
            in errors_of(tenant_a, period_start=datetime.date(2020, 9, 1))["period_start"]
        )
        assert (
            "after this workgroup's program year ends"
            in errors_of(tenant_a, period_start=datetime.date(2021, 10, 1))["period_start"]
        )
        assert (
            "from the list"
            in errors_of(tenant_a, period_start=datetime.date(2020, 11, 15))["period_start"]
        )

    def test_numbers(self, tenant_a):
        assert "more than zero" in errors_of(tenant_a, denominator=D(0))["denominator"]
        assert "Enter the hours worked" in errors_of(tenant_a, denominator=None)["denominator"]
        assert "Enter the recordable injuries" in errors_of(tenant_a, numerator=None)["numerator"]
        assert "zero or more" in errors_of(tenant_a, numerator=D(-1))["numerator"]

    def test_percentage_numerator_cannot_exceed_denominator(self, tenant_a):
        with scope(alliance=tenant_a.alliance):
            measure = MeasureFactory(
                alliance=tenant_a.alliance,
                workgroup=tenant_a.workgroup,
                kind=Measure.Kind.PERCENTAGE,
                numerator_label="Met",
                denominator_label="Eligible",
            )
        assert (
            "cannot exceed"
            in errors_of(tenant_a, measure, numerator=D(11), denominator=D(10))["numerator"]
        )

    def test_milestone_needs_a_yes_or_no(self, tenant_a):
        measure = MeasureFactory(
            alliance=tenant_a.alliance, workgroup=tenant_a.workgroup, kind=Measure.Kind.MILESTONE
        )
        assert "made progress" in errors_of(tenant_a, measure, achieved=None)["achieved"]
        assert errors_of(tenant_a, measure, achieved=False) == {}

    def test_organization_must_take_part(self, tenant_a):
        outsider = OrganizationFactory(alliance=tenant_a.alliance)
        with scope(alliance=tenant_a.alliance), pytest.raises(ValidationError, match="not report"):
            services.reading_validate(
                measure=tenant_a.measure,
                organization=outsider,
                period_start=NOV,
                numerator=D(1),
                denominator=D(10),
                achieved=None,
            )


class TestDataEntry:
    def url(self, tenant, **query):
        base = reverse("workgroups:report", args=[tenant.alliance.slug, tenant.measure.pk])
        return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def test_ceo_reports_and_corrects_with_history(self, client, tenant_a):
        client.force_login(tenant_a.member)
        page = client.get(self.url(tenant_a)).content.decode()
        assert "Report OSHA rate of alpha" in page
        assert 'value="2.0000"' in page or 'value="2"' in page  # the last values, prefilled
        response = client.post(
            self.url(tenant_a),
            {"period_start": "2020-11-01", "numerator": "3", "denominator": "60000", "note": ""},
        )
        assert response.status_code == 302
        with scope(alliance=tenant_a.alliance):
            reading = Reading.objects.get(measure=tenant_a.measure, period_start=NOV)
            assert reading.entered_by == tenant_a.member and reading.numerator == 3
        client.post(
            self.url(tenant_a),
            {"period_start": "2020-11-01", "numerator": "4", "denominator": "60000"},
        )
        with scope(alliance=tenant_a.alliance):
            reading.refresh_from_db()
            assert reading.numerator == 4
            [revision] = ReadingRevision.objects.filter(reading=reading)
            assert revision.numerator == 3 and revision.changed_by == tenant_a.member

    def test_bad_values_get_a_message_per_field_and_save_nothing(self, client, tenant_a):
        client.force_login(tenant_a.member)
        response = client.post(
            self.url(tenant_a),
            {"period_start": "2020-11-01", "numerator": "abc", "denominator": "0"},
        )
        assert response.status_code == 200
        assert "Enter a number" in response.content.decode()
        with scope(alliance=tenant_a.alliance):
            assert not Reading.objects.filter(period_start=NOV).exists()

    def test_trustee_and_outsiders_cannot_report(self, client, tenant_a):
        trustee = MembershipFactory(
            alliance=tenant_a.alliance, role=Role.TRUSTEE, organization=tenant_a.organization
        ).user
        client.force_login(trustee)
        assert client.get(self.url(tenant_a)).status_code == 403
        outsider = MembershipFactory(alliance=tenant_a.alliance, role=Role.CEO).user
        client.force_login(outsider)  # their organization is not in the workgroup
        assert client.get(self.url(tenant_a)).status_code == 403

    def test_a_member_cannot_report_for_another_organization(self, client, tenant_a):
        other = ParticipationFactory(workgroup=tenant_a.workgroup).organization
        client.force_login(tenant_a.member)
        client.post(
            self.url(tenant_a, organization=other.pk) + "",
            {
                "period_start": "2020-11-01",
                "numerator": "1",
                "denominator": "1000",
                "organization_id": other.pk,
            },
        )
        with scope(alliance=tenant_a.alliance):
            assert not Reading.objects.filter(organization=other).exists()
            assert Reading.objects.filter(
                organization=tenant_a.organization, period_start=NOV
            ).exists()

    def test_staff_report_for_any_participant(self, client, tenant_a, totp_for):
        other = ParticipationFactory(workgroup=tenant_a.workgroup).organization
        totp_for(tenant_a.staff)
        client.force_login(tenant_a.staff)
        response = client.post(
            self.url(tenant_a, organization=other.pk),
            {
                "period_start": "2020-11-01",
                "numerator": "1",
                "denominator": "1000",
                "organization_id": other.pk,
            },
        )
        assert response.status_code == 302
        with scope(alliance=tenant_a.alliance):
            assert Reading.objects.get(organization=other).entered_by == tenant_a.staff


def test_workgroup_page_shows_the_correctly_pooled_rate(client, tenant_a):
    # Fixture: 2 cases in 50,000 h (Oct 2020). Add a second organization: 3 in 150,000 h.
    # Pooled: 5 × 200,000 ÷ 200,000 = 5.0; the average of rates (8.0 and 4.0) would be 6.0.
    other = ParticipationFactory(workgroup=tenant_a.workgroup).organization
    ReadingFactory(
        alliance=tenant_a.alliance,
        measure=tenant_a.measure,
        organization=other,
        numerator=D(3),
        denominator=D(150000),
    )
    client.force_login(tenant_a.member)
    page = client.get(
        reverse("workgroups:measure", args=[tenant_a.alliance.slug, tenant_a.measure.pk])
    ).content.decode()
    assert '<td class="text-end">5.0</td>' in page
    assert "5 ÷ 200000" in page


def test_peers_are_blinded_unless_the_alliance_allows_names(client, tenant_a):
    zed = OrganizationFactory(alliance=tenant_a.alliance, name="Zed Hospital")
    other = ParticipationFactory(workgroup=tenant_a.workgroup, organization=zed)
    ReadingFactory(
        alliance=tenant_a.alliance, measure=tenant_a.measure, organization=other.organization
    )
    client.force_login(tenant_a.member)
    url = reverse("workgroups:measure", args=[tenant_a.alliance.slug, tenant_a.measure.pk])
    page = client.get(url).content.decode()
    assert "Zed Hospital" not in page
    assert "Organization A" in page or "Organization B" in page
    assert f"{tenant_a.organization.name} (your organization)" in page
    tenant_a.alliance.show_peer_names = True
    tenant_a.alliance.save()
    assert "Zed Hospital" in client.get(url).content.decode()


class TestGoals:
    def test_a_set_outside_three_to_five_is_refused(self, client, tenant_a):
        client.force_login(tenant_a.member)
        submit = reverse("workgroups:goal_set_submit", args=[tenant_a.alliance.slug])
        response = client.post(submit, follow=True)
        assert "Submit 3 to 5 goals; this set has 1" in response.content.decode()
        goal_set = tenant_a.goal.goal_set
        GoalFactory.create_batch(2, alliance=tenant_a.alliance, goal_set=goal_set)
        response = client.post(submit, follow=True)
        assert "submitted" in response.content.decode()
        with scope(alliance=tenant_a.alliance):
            goal_set.refresh_from_db()
            assert goal_set.submitted_at is not None

    def test_no_sixth_goal(self, tenant_a):
        GoalFactory.create_batch(4, alliance=tenant_a.alliance, goal_set=tenant_a.goal.goal_set)
        with scope(alliance=tenant_a.alliance), pytest.raises(ValidationError, match="at most 5"):
            services.goal_add(
                goal_set=tenant_a.goal.goal_set,
                by=tenant_a.member,
                statement="One more",
                measure_name="x",
                kind="count",
                period="monthly",
                direction="lower",
                unit="",
                multiplier=D(1),
                baseline_value=D(1),
                theoretical_limit=D(0),
                due_on=datetime.date(2021, 9, 30),
            )

    def test_my_organization_page_shows_goals_commitments_and_data_due(self, client, tenant_a):
        client.force_login(tenant_a.member)
        page = client.get(
            reverse("workgroups:my_organization", args=[tenant_a.alliance.slug])
        ).content.decode()
        assert tenant_a.goal.statement in page
        assert "Trustee quality education program" in page
        assert "Not reported: Nov 2020" in page  # the fixture reported only Oct 2020


def test_commitment_update(client, tenant_a):
    client.force_login(tenant_a.member)
    url = reverse("workgroups:commitment", args=[tenant_a.alliance.slug, tenant_a.commitment.pk])
    assert client.post(url, {"status": "in_place", "evidence": "Board minutes"}).status_code == 302
    with scope(alliance=tenant_a.alliance):
        tenant_a.commitment.refresh_from_db()
    assert (tenant_a.commitment.status, tenant_a.commitment.updated_by) == (
        "in_place",
        tenant_a.member,
    )


class TestProposals:
    def test_propose_and_endorse_once(self, client, tenant_a):
        colleague = MembershipFactory(alliance=tenant_a.alliance)
        client.force_login(colleague.user)
        url = reverse(
            "workgroups:proposal_endorse", args=[tenant_a.alliance.slug, tenant_a.proposal.pk]
        )
        client.post(url)
        client.post(url)
        with scope(alliance=tenant_a.alliance):
            assert tenant_a.proposal.endorsed_by.count() == 1  # the fixture's proposer had none
        listing = reverse("workgroups:proposals", args=[tenant_a.alliance.slug])
        assert (
            client.post(listing, {"title": "Nurse staffing", "description": "Let us"}).status_code
            == 302
        )
        with scope(alliance=tenant_a.alliance):
            assert FocusProposal.objects.get(title="Nurse staffing").endorsed_by.count() == 1

    def test_staff_adopt_a_proposal_as_a_workgroup(self, tenant_a):
        with scope(alliance=tenant_a.alliance):
            workgroup = services.focus_proposal_adopt(
                proposal=tenant_a.proposal, program_year=tenant_a.program_year
            )
            tenant_a.proposal.refresh_from_db()
            assert tenant_a.proposal.status == FocusProposal.Status.ADOPTED
            assert Workgroup.objects.get(pk=workgroup.pk).name == tenant_a.proposal.title
            with pytest.raises(ValidationError):
                services.focus_proposal_adopt(
                    proposal=tenant_a.proposal, program_year=tenant_a.program_year
                )


def test_a_baseline_change_keeps_who_when_and_why(tenant_a):
    with scope(alliance=tenant_a.alliance):
        with pytest.raises(ValidationError):
            services.aim_change_baseline(
                aim=tenant_a.aim, new_value=D(5), reason=" ", by=tenant_a.staff
            )
        aim = services.aim_change_baseline(
            aim=tenant_a.aim,
            new_value=D(5),
            reason="Two sites restated 2020 hours",
            by=tenant_a.staff,
        )
        [change] = aim.baseline_changes.all()
    assert aim.baseline_value == 5
    assert (change.old_value, change.new_value, change.changed_by) == (D(4), D(5), tenant_a.staff)


class TestCompleteness:
    def url(self, tenant):
        return reverse(
            "workgroups:completeness", args=[tenant.alliance.slug, tenant.workgroup.slug]
        )

    def test_staff_see_who_has_not_reported(self, client, tenant_a, totp_for):
        totp_for(tenant_a.staff)
        client.force_login(tenant_a.staff)
        page = client.get(self.url(tenant_a)).content.decode()
        assert tenant_a.organization.name in page and "Nov 2020" in page

    def test_leads_see_it_members_do_not(self, client, tenant_a):
        client.force_login(tenant_a.member)
        assert client.get(self.url(tenant_a)).status_code == 403
        with scope(alliance=tenant_a.alliance):
            tenant_a.workgroup.leads.add(tenant_a.membership)
        assert client.get(self.url(tenant_a)).status_code == 200


def test_pages_stay_within_budget_at_1000_readings_per_measure(client, tenant_a):
    client.force_login(tenant_a.member)
    urls = [
        reverse("workgroups:detail", args=[tenant_a.alliance.slug, tenant_a.workgroup.slug]),
        reverse("workgroups:measure", args=[tenant_a.alliance.slug, tenant_a.measure.pk]),
        reverse("workgroups:my_organization", args=[tenant_a.alliance.slug]),
    ]
    small = [query_count(client, url) for url in urls]
    organizations = [
        ParticipationFactory(workgroup=tenant_a.workgroup).organization for _ in range(50)
    ]
    months = [datetime.date(2020 + (10 + m) // 12, (9 + m) % 12 + 1, 1) for m in range(12)]
    with scope(alliance=tenant_a.alliance):
        Reading.objects.bulk_create(
            Reading(
                alliance=tenant_a.alliance,
                measure=tenant_a.measure,
                organization=org,
                period_start=month,
                numerator=D(2),
                denominator=D(40000),
                entered_by=tenant_a.member,
                updated_by=tenant_a.member,
            )
            for org in organizations
            for month in months[:20]
        )
        assert Reading.objects.filter(measure=tenant_a.measure).count() >= 600
    large = [query_count(client, url) for url in urls]
    assert small == large
    assert all(status == 200 and queries <= MEMBER_PAGE_BUDGET for status, queries in large)
