"""Query budgets: a page's query count must not grow with the data."""

import datetime

from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from members.models import Role
from sessions.models import Guest, MeetingChange
from tests.factories import (
    AgendaItemFactory,
    AllianceFactory,
    InvitationFactory,
    MeetingFactory,
    MembershipFactory,
    NoticeFactory,
    OrganizationFactory,
    ProgramYearFactory,
    PublicationFactory,
    QuestionFactory,
    QuestionVoteFactory,
    RegistrationFactory,
    ResourceFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
    SpeakerFactory,
)
from tests.factories.content import PDF_BYTES
from tests.factories.workgroups import (
    FocusAreaFactory,
    GoalFactory,
    GoalSetFactory,
    ParticipationFactory,
    ReadingFactory,
)
from workgroups.models import BaselineChange, ReadingRevision

MEMBER_PAGE_BUDGET = 8
ADMIN_CHANGELIST_BUDGET = 12


def query_count(client, url) -> tuple[int, int]:
    """(status, queries) of one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, len(queries)


def grow(tenant, extra: int) -> None:
    """Add `extra` more of every object the tenant has (grows as models are added)."""
    alliance = tenant.alliance
    for _ in range(extra):
        organization = OrganizationFactory(alliance=alliance)
        ceo = MembershipFactory(alliance=alliance, organization=organization, role=Role.CEO)
        MembershipFactory(alliance=alliance, organization=organization, role=Role.QUALITY_LEAD)
        MembershipFactory(alliance=alliance, role=Role.ALLIANCE_STAFF)
        # Past years: the current one (what pages show) stays the tenant's.
        ProgramYearFactory(
            alliance=alliance,
            starts_on=datetime.date(1990 + _, 1, 1),
            ends_on=datetime.date(1990 + _, 12, 31),
        )
        SpeakerFactory(alliance=alliance)
        InvitationFactory(alliance=alliance, organization=organization)
        # The member's own list of alliances grows too ("/").
        MembershipFactory(user=tenant.member, alliance=AllianceFactory())
        meeting = MeetingFactory(
            alliance=alliance, program_year=tenant.program_year, host_organization=organization
        )
        AgendaItemFactory(meeting=meeting)
        RegistrationFactory(alliance=alliance, meeting=meeting, membership=ceo)
        speaker = SpeakerFactory(alliance=alliance)
        with scope(alliance=alliance):  # no factories for these: created as the services do
            Guest.objects.create(meeting=meeting, speaker=speaker, joins_dinner=bool(_ % 2))
            MeetingChange.objects.create(
                alliance=alliance,
                meeting=meeting,
                kind=MeetingChange.Kind.POSTPONED,
                old_starts_at=meeting.starts_at,
                new_starts_at=None,
                changed_by=tenant.staff,
            )
        roundtable = RoundtableFactory(
            alliance=alliance, program_year=tenant.program_year, facilitators=[speaker]
        )
        RoundtableRegistrationFactory(alliance=alliance, roundtable=roundtable, membership=ceo)
        question = QuestionFactory(alliance=alliance, roundtable=roundtable, asked_by=ceo)
        QuestionVoteFactory(alliance=alliance, question=question, membership=tenant.membership)
        QuestionFactory(alliance=alliance, roundtable=tenant.roundtable, asked_by=ceo)
        RoundtableRegistrationFactory(
            alliance=alliance,
            roundtable=tenant.roundtable,
            membership=ceo,
            status="waitlisted",
        )
        NoticeFactory(alliance=alliance)
        # Collective voice: by members and organizations of the tenant's workgroup
        # (A's member among the authors, so every row has an edit link), some with a file.
        publication = PublicationFactory(
            alliance=alliance,
            workgroup=tenant.workgroup,
            added_by=ceo,
            **({"file": ContentFile(PDF_BYTES, name="report.pdf")} if _ % 2 else {}),
        )
        with scope(alliance=alliance):
            publication.author_members.add(ceo, tenant.membership)
            publication.author_organizations.add(organization, tenant.organization)
        # Resources: this year's, every year's and a past year's.
        ResourceFactory(alliance=alliance, program_year=tenant.program_year)
        ResourceFactory(alliance=alliance, program_year=None)
        earlier_year = ProgramYearFactory(
            alliance=alliance,
            starts_on=datetime.date(1960 + _, 1, 1),
            ends_on=datetime.date(1960 + _, 12, 31),
        )
        ResourceFactory(alliance=alliance, program_year=earlier_year)
        _grow_workgroup(tenant, organization, ceo)
    refresh_planner_statistics()


def refresh_planner_statistics() -> None:
    """ANALYZE on PostgreSQL, as autovacuum would after this many new rows.

    Autovacuum never sees rows of the test's open transaction, and earlier tests
    that committed and deleted rows leave tables with statistics of zero rows
    on several pages. The planner then takes the grown tables for empty and
    nests loops over full scans: one changelist query took minutes at 1,000
    rows. ANALYZE in the transaction samples its own new rows.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _grow_workgroup(tenant, organization, ceo) -> None:
    """One more participant of the tenant's workgroup, with a focus area, a reading and
    its revision, a baseline change and a goal (the workgroups admin's changelists)."""
    alliance = tenant.alliance
    ParticipationFactory(workgroup=tenant.workgroup, organization=organization)
    FocusAreaFactory(workgroup=tenant.workgroup)
    reading = ReadingFactory(
        alliance=alliance,
        measure=tenant.measure,
        organization=organization,
        entered_by=ceo.user,
        updated_by=ceo.user,
    )
    GoalFactory(
        alliance=alliance,
        goal_set=GoalSetFactory(
            alliance=alliance, organization=organization, program_year=tenant.program_year
        ),
    )
    with scope(alliance=alliance):
        ReadingRevision.objects.create(
            alliance=alliance, reading=reading, numerator=1, denominator=1, changed_by=ceo.user
        )
        BaselineChange.objects.create(
            alliance=alliance,
            aim=tenant.aim,
            old_value=1,
            new_value=2,
            reason="Late data",
            changed_by=tenant.staff,
        )
