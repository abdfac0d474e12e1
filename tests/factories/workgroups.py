import datetime
from decimal import Decimal

import factory

from members.models import Role
from workgroups.models import (
    Aim,
    Commitment,
    FocusArea,
    FocusProposal,
    Goal,
    GoalSet,
    Measure,
    Participation,
    Reading,
    Workgroup,
)

from .alliance import AllianceFactory, ProgramYearFactory
from .base import TenantFactory
from .members import MembershipFactory, OrganizationFactory


class WorkgroupFactory(TenantFactory):
    class Meta:
        model = Workgroup

    alliance = factory.SubFactory(AllianceFactory)
    program_year = factory.LazyAttribute(lambda o: ProgramYearFactory(alliance=o.alliance))
    name = factory.Sequence(lambda n: f"Workgroup {n}")
    slug = factory.Sequence(lambda n: f"workgroup-{n}")
    description = "Improving together."


class ParticipationFactory(TenantFactory):
    class Meta:
        model = Participation

    workgroup = factory.SubFactory(WorkgroupFactory)
    organization = factory.LazyAttribute(
        lambda o: OrganizationFactory(alliance=o.workgroup.alliance)
    )
    joined_on = datetime.date(2020, 10, 1)


class FocusAreaFactory(TenantFactory):
    class Meta:
        model = FocusArea

    workgroup = factory.SubFactory(WorkgroupFactory)
    title = factory.Sequence(lambda n: f"Focus area {n}")


class MeasureFactory(TenantFactory):
    class Meta:
        model = Measure

    alliance = factory.SubFactory(AllianceFactory)
    workgroup = factory.LazyAttribute(lambda o: WorkgroupFactory(alliance=o.alliance))
    name = factory.Sequence(lambda n: f"Measure {n}")
    kind = Measure.Kind.RATE
    multiplier = Decimal(200000)
    unit = "per 200,000 hours"
    numerator_label = "Recordable injuries"
    denominator_label = "Hours worked"
    first_period = datetime.date(2020, 10, 1)


class AimFactory(TenantFactory):
    class Meta:
        model = Aim

    alliance = factory.SubFactory(AllianceFactory)
    measure = factory.LazyAttribute(lambda o: MeasureFactory(alliance=o.alliance))
    statement = "Reduce the rate by 25%."
    baseline_start = datetime.date(2020, 10, 1)
    baseline_end = datetime.date(2020, 12, 1)
    baseline_value = Decimal("4.0")
    target_kind = Aim.TargetKind.RELATIVE
    target_value = Decimal(-25)
    starts_on = datetime.date(2021, 1, 1)
    due_on = datetime.date(2021, 9, 30)


class ReadingFactory(TenantFactory):
    class Meta:
        model = Reading

    alliance = factory.SubFactory(AllianceFactory)
    measure = factory.LazyAttribute(lambda o: MeasureFactory(alliance=o.alliance))
    organization = factory.LazyAttribute(lambda o: OrganizationFactory(alliance=o.alliance))
    period_start = datetime.date(2020, 10, 1)
    numerator = Decimal(2)
    denominator = Decimal(50000)
    entered_by = factory.LazyAttribute(
        lambda o: MembershipFactory(alliance=o.alliance, role=Role.QUALITY_LEAD).user
    )
    updated_by = factory.SelfAttribute("entered_by")


class GoalSetFactory(TenantFactory):
    class Meta:
        model = GoalSet

    alliance = factory.SubFactory(AllianceFactory)
    organization = factory.LazyAttribute(lambda o: OrganizationFactory(alliance=o.alliance))
    program_year = factory.LazyAttribute(lambda o: ProgramYearFactory(alliance=o.alliance))


class GoalFactory(TenantFactory):
    class Meta:
        model = Goal

    alliance = factory.SubFactory(AllianceFactory)
    goal_set = factory.LazyAttribute(lambda o: GoalSetFactory(alliance=o.alliance))
    statement = factory.Sequence(lambda n: f"Zero harm goal {n}")
    measure = factory.LazyAttribute(
        lambda o: MeasureFactory(
            alliance=o.alliance,
            workgroup=None,
            kind=Measure.Kind.COUNT,
            name=f"Goal measure {o.statement}",
        )
    )
    baseline_value = Decimal(12)
    theoretical_limit = Decimal(0)
    due_on = datetime.date(2021, 9, 30)


class CommitmentFactory(TenantFactory):
    class Meta:
        model = Commitment

    alliance = factory.SubFactory(AllianceFactory)
    organization = factory.LazyAttribute(lambda o: OrganizationFactory(alliance=o.alliance))
    kind = Commitment.Kind.TRUSTEE_EDUCATION
    evidence = "Board education session held."


class FocusProposalFactory(TenantFactory):
    class Meta:
        model = FocusProposal

    alliance = factory.SubFactory(AllianceFactory)
    title = factory.Sequence(lambda n: f"Proposal {n}")
    description = "Let us work on this together."
    proposed_by = factory.LazyAttribute(lambda o: MembershipFactory(alliance=o.alliance))
