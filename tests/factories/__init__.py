from .alliance import AllianceFactory, ProgramYearFactory
from .members import MembershipFactory, OrganizationFactory, UserFactory

__all__ = [
    "AllianceFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "ProgramYearFactory",
    "UserFactory",
]
