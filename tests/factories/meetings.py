import datetime

import factory
from django.utils import timezone

from alliance.models import Notice
from sessions.models import AgendaItem, Meeting, Registration

from .alliance import AllianceFactory, ProgramYearFactory
from .base import TenantFactory
from .members import MembershipFactory


def next_month_at(hour: int) -> datetime.datetime:
    """A future start, so the meeting is open for RSVP whenever the tests run."""
    day = timezone.now().date() + datetime.timedelta(days=30)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


class MeetingFactory(TenantFactory):
    class Meta:
        model = Meeting

    alliance = factory.SubFactory(AllianceFactory)
    program_year = factory.LazyAttribute(lambda o: ProgramYearFactory(alliance=o.alliance))
    title = factory.Sequence(lambda n: f"Meeting {n}")
    kind = Meeting.Kind.ALLIANCE_MEETING
    format = Meeting.Format.HYBRID
    starts_at = factory.LazyFunction(lambda: next_month_at(14))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=3))
    time_zone = "America/New_York"
    venue = "Harbor Conference Center"
    join_url = factory.Sequence(lambda n: f"https://meet.example.org/join/{n}-secret")


class AgendaItemFactory(TenantFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    order = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Agenda item {n}")
    duration_minutes = 30


class RegistrationFactory(TenantFactory):
    class Meta:
        model = Registration

    alliance = factory.SubFactory(AllianceFactory)
    meeting = factory.LazyAttribute(lambda o: MeetingFactory(alliance=o.alliance))
    membership = factory.LazyAttribute(lambda o: MembershipFactory(alliance=o.alliance))
    response = Registration.Response.IN_PERSON


class NoticeFactory(TenantFactory):
    class Meta:
        model = Notice

    alliance = factory.SubFactory(AllianceFactory)
    title = "In-person meetings have been postponed until further notice"
    body = "Due to COVID-19 we have moved to virtual meetings."
    starts_on = factory.LazyFunction(lambda: timezone.now().date() - datetime.timedelta(days=1))
