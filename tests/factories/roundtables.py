import datetime

import factory
from django_scopes import scope

from roundtables.models import Question, QuestionVote, Roundtable, RoundtableRegistration

from .alliance import AllianceFactory, ProgramYearFactory
from .base import TenantFactory
from .meetings import next_month_at
from .members import MembershipFactory


class RoundtableFactory(TenantFactory):
    class Meta:
        model = Roundtable
        skip_postgeneration_save = True

    alliance = factory.SubFactory(AllianceFactory)
    program_year = factory.LazyAttribute(lambda o: ProgramYearFactory(alliance=o.alliance))
    title = factory.Sequence(lambda n: f"Leadership Virtual Roundtable {n}")
    topic = "Leading through a pandemic"
    starts_at = factory.LazyFunction(lambda: next_month_at(17))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=90))
    time_zone = "America/New_York"
    join_url = factory.Sequence(lambda n: f"https://webinar.example.org/j/{n}-secret")
    passcode = factory.Sequence(lambda n: f"pass{n:04d}")

    @factory.post_generation
    def facilitators(obj, create, extracted, **kwargs):
        if create and extracted:
            with scope(alliance=obj.alliance):
                obj.facilitators.set(extracted)


class RoundtableRegistrationFactory(TenantFactory):
    class Meta:
        model = RoundtableRegistration

    alliance = factory.SubFactory(AllianceFactory)
    roundtable = factory.LazyAttribute(lambda o: RoundtableFactory(alliance=o.alliance))
    membership = factory.LazyAttribute(lambda o: MembershipFactory(alliance=o.alliance))
    status = RoundtableRegistration.Status.REGISTERED


class QuestionFactory(TenantFactory):
    class Meta:
        model = Question

    alliance = factory.SubFactory(AllianceFactory)
    roundtable = factory.LazyAttribute(lambda o: RoundtableFactory(alliance=o.alliance))
    asked_by = factory.LazyAttribute(lambda o: MembershipFactory(alliance=o.alliance))
    text = factory.Sequence(lambda n: f"How did you approach question {n}?")


class QuestionVoteFactory(TenantFactory):
    class Meta:
        model = QuestionVote

    alliance = factory.SubFactory(AllianceFactory)
    question = factory.LazyAttribute(lambda o: QuestionFactory(alliance=o.alliance))
    membership = factory.LazyAttribute(lambda o: MembershipFactory(alliance=o.alliance))
