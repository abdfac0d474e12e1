from .alliance import AllianceFactory, ProgramYearFactory
from .members import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    SpeakerFactory,
    UserFactory,
)

__all__ = [
    "AllianceFactory",
    "InvitationFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "ProgramYearFactory",
    "SpeakerFactory",
    "UserFactory",
]
