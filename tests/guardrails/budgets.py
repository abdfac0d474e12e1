"""Query budgets: a page's query count must not grow with the data."""

import datetime

from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from members.models import Role
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
