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

from .workgroups import (
    AimFactory,
    CommitmentFactory,
    FocusAreaFactory,
    FocusProposalFactory,
    GoalFactory,
    GoalSetFactory,
    MeasureFactory,
    ParticipationFactory,
    ReadingFactory,
    WorkgroupFactory,
)

__all__ += [
    "AimFactory",
    "CommitmentFactory",
    "FocusAreaFactory",
    "FocusProposalFactory",
    "GoalFactory",
    "GoalSetFactory",
    "MeasureFactory",
    "ParticipationFactory",
    "ReadingFactory",
    "WorkgroupFactory",
]

from .meetings import (  # noqa: E402
    AgendaItemFactory,
    MeetingFactory,
    NoticeFactory,
    RegistrationFactory,
)

__all__ += ["AgendaItemFactory", "MeetingFactory", "NoticeFactory", "RegistrationFactory"]

from .content import OutgoingEmailFactory, PublicationFactory, ResourceFactory  # noqa: E402
from .roundtables import (  # noqa: E402
    QuestionFactory,
    QuestionVoteFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
)

__all__ += [
    "OutgoingEmailFactory",
    "PublicationFactory",
    "QuestionFactory",
    "QuestionVoteFactory",
    "ResourceFactory",
    "RoundtableFactory",
    "RoundtableRegistrationFactory",
]
