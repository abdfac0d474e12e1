"""Query budgets: a page's query count must not grow with the data."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

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
    RegistrationFactory,
    SpeakerFactory,
)

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
        ProgramYearFactory(alliance=alliance)
        SpeakerFactory(alliance=alliance)
        InvitationFactory(alliance=alliance, organization=organization)
        # The member's own list of alliances grows too ("/").
        MembershipFactory(user=tenant.member, alliance=AllianceFactory())
        meeting = MeetingFactory(
            alliance=alliance, program_year=tenant.program_year, host_organization=organization
        )
        AgendaItemFactory(meeting=meeting)
        RegistrationFactory(alliance=alliance, meeting=meeting, membership=ceo)
        NoticeFactory(alliance=alliance)
