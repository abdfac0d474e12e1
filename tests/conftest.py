"""Shared fixtures. Tenant rows are created inside their alliance's scope;
tests that query tenant models enter a scope themselves (`in_scope`)."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django_scopes import scope

from alliance.models import Alliance, Notice, OutgoingEmail, ProgramYear, Publication, Resource
from members.models import Invitation, Membership, Organization, Role, Speaker, User
from members.services import staff_group_sync
from roundtables.models import Question, QuestionVote, Roundtable, RoundtableRegistration
from sessions.models import AgendaItem, Meeting, Registration
from tests.factories import (
    AgendaItemFactory,
    AimFactory,
    AllianceFactory,
    CommitmentFactory,
    FocusAreaFactory,
    FocusProposalFactory,
    GoalFactory,
    GoalSetFactory,
    InvitationFactory,
    MeasureFactory,
    MeetingFactory,
    MembershipFactory,
    NoticeFactory,
    OrganizationFactory,
    OutgoingEmailFactory,
    ParticipationFactory,
    ProgramYearFactory,
    PublicationFactory,
    QuestionFactory,
    QuestionVoteFactory,
    ReadingFactory,
    RegistrationFactory,
    ResourceFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
    SpeakerFactory,
    WorkgroupFactory,
)
from tests.factories.content import PDF_BYTES
from workgroups.models import Aim, Commitment, FocusProposal, Goal, Measure, Reading, Workgroup


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files (fixtures upload slides, resources, publications) stay per test.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate-limit counters live in the (possibly real Redis) cache.
    cache.clear()
    yield
    cache.clear()


@dataclass
class Tenant:
    """One alliance with one of every object (grows as models are added)."""

    alliance: Alliance
    program_year: ProgramYear
    organization: Organization
    member: User  # a CEO
    membership: Membership
    staff: User  # alliance staff, is_staff
    staff_membership: Membership
    speaker: Speaker
    invitation: Invitation  # pending, to join `organization`
    workgroup: Workgroup  # `organization` participates
    measure: Measure  # an OSHA-style rate of the workgroup, with an aim
    aim: Aim
    reading: Reading  # `organization`'s first period
    goal: Goal  # `organization`'s goal set, one goal with its own measure
    commitment: Commitment
    proposal: FocusProposal
    meeting: Meeting  # future, hybrid, hosted by `organization`; `member` registered
    agenda_item: AgendaItem
    registration: Registration
    notice: Notice
    roundtable: Roundtable  # future, facilitated by `speaker`, with slides; `member` registered
    roundtable_registration: RoundtableRegistration
    question: Question  # asked by `member`
    question_vote: QuestionVote  # by `staff_membership`
    publication: Publication  # a report by `member` and `organization` of `workgroup`, a file
    resource: Resource  # the prospectus of `program_year`
    outgoing_email: OutgoingEmail  # queued, to `member`


def make_tenant(slug: str) -> Tenant:
    alliance = AllianceFactory(slug=slug, name=f"Alliance {slug.upper()}")
    organization = OrganizationFactory(alliance=alliance, name=f"Organization of {slug}")
    program_year = ProgramYearFactory(alliance=alliance)
    membership = MembershipFactory(
        alliance=alliance,
        organization=organization,
        role=Role.CEO,
        user__email=f"ceo@{slug}.example",
    )
    staff_membership = MembershipFactory(
        alliance=alliance,
        role=Role.ALLIANCE_STAFF,
        user__email=f"staff@{slug}.example",
        user__is_staff=True,
    )
    staff_membership.user.groups.add(staff_group_sync())
    workgroup = WorkgroupFactory(
        alliance=alliance,
        program_year=program_year,
        slug=f"{slug}-safety",
        name=f"Workforce safety of {slug}",
    )
    ParticipationFactory(workgroup=workgroup, organization=organization)
    FocusAreaFactory(workgroup=workgroup, title=f"Focus of {slug}")
    measure = MeasureFactory(alliance=alliance, workgroup=workgroup, name=f"OSHA rate of {slug}")
    aim = AimFactory(alliance=alliance, measure=measure, statement=f"Reduce injuries at {slug}")
    reading = ReadingFactory(
        alliance=alliance,
        measure=measure,
        organization=organization,
        entered_by=membership.user,
        updated_by=membership.user,
    )
    meeting = MeetingFactory(
        alliance=alliance,
        program_year=program_year,
        host_organization=organization,
        title=f"Session of {slug}",
    )
    goal = GoalFactory(
        alliance=alliance,
        goal_set=GoalSetFactory(
            alliance=alliance, organization=organization, program_year=program_year
        ),
    )
    speaker = SpeakerFactory(alliance=alliance, name=f"Faculty of {slug}")
    roundtable = RoundtableFactory(
        alliance=alliance,
        program_year=program_year,
        title=f"Roundtable of {slug}",
        facilitators=[speaker],
        slides=ContentFile(PDF_BYTES, name=f"slides-{slug}.pdf"),
    )
    question = QuestionFactory(alliance=alliance, roundtable=roundtable, asked_by=membership)
    publication = PublicationFactory(
        alliance=alliance,
        title=f"Report of {slug}",
        workgroup=workgroup,
        added_by=membership,
        file=ContentFile(PDF_BYTES, name=f"report-{slug}.pdf"),
    )
    with scope(alliance=alliance):
        publication.author_members.add(membership)
        publication.author_organizations.add(organization)
    return Tenant(
        alliance=alliance,
        program_year=program_year,
        organization=organization,
        member=membership.user,
        membership=membership,
        staff=staff_membership.user,
        staff_membership=staff_membership,
        speaker=speaker,
        invitation=InvitationFactory(
            alliance=alliance,
            organization=organization,
            email=f"invitee@{slug}.example",
            invited_by=staff_membership.user,
        ),
        workgroup=workgroup,
        measure=measure,
        aim=aim,
        reading=reading,
        goal=goal,
        commitment=CommitmentFactory(alliance=alliance, organization=organization),
        proposal=FocusProposalFactory(alliance=alliance, proposed_by=membership),
        meeting=meeting,
        agenda_item=AgendaItemFactory(meeting=meeting, title=f"Host example of {slug}"),
        registration=RegistrationFactory(alliance=alliance, meeting=meeting, membership=membership),
        notice=NoticeFactory(alliance=alliance),
        roundtable=roundtable,
        roundtable_registration=RoundtableRegistrationFactory(
            alliance=alliance, roundtable=roundtable, membership=membership
        ),
        question=question,
        question_vote=QuestionVoteFactory(
            alliance=alliance, question=question, membership=staff_membership
        ),
        publication=publication,
        resource=ResourceFactory(
            alliance=alliance, program_year=program_year, title=f"Prospectus of {slug}"
        ),
        outgoing_email=OutgoingEmailFactory(
            alliance=alliance, recipient=membership.user.email, subject=f"Mail of {slug}"
        ),
    )


@pytest.fixture
def tenant_a(db) -> Tenant:
    return make_tenant("alpha")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return make_tenant("bravo")


@pytest.fixture
def in_scope(tenant_a):
    """Run the test body inside alliance A's scope."""
    with scope(alliance=tenant_a.alliance):
        yield tenant_a


@pytest.fixture
def totp_for():
    """Give a user a TOTP authenticator, as if they had set up MFA."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def activate(user):
        return TOTP.activate(user, generate_totp_secret())

    return activate


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"alliance portal: database={database} cache={cache}"
