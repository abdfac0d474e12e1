"""Demo meetings, guests, registrations and the COVID-19 notice (called by `load_demo`).

From the public descriptions in ../shared/seeds/:

* the national alliance: its in-person meetings postponed "until further notice"
  (COVID-19), quarterly virtual alliance meetings and monthly calls of its three
  workgroups through the 2020–2021 program year, and the alliance-wide notice;
* the regional program: 10 one-day community-of-practice sessions a year for two
  years, hosted in rotation by its five organizations, each with a featured guest
  who joins the CEOs for dinner, the standard agenda and a shared topic; the CEOs
  and some heads of Quality registered, with attendance recorded.

Every date is historical and fixed, so meetings are marked completed by date, not
by today's date; who attended comes from a seeded generator. A meeting is found
again by (alliance, title, original start), so a reload creates nothing new.
Guests are fictional people at fictional organizations.
"""

import datetime
import random
import uuid
import zoneinfo

from django.db.models import Q
from django_scopes import scope

from alliance.demo import NATIONAL, REGIONAL
from alliance.models import Notice, ProgramYear
from members.models import Membership, Organization, Role, Speaker
from workgroups.models import Workgroup

from . import services
from .models import AgendaItem, Audience, Meeting, MeetingChange, Registration

UID_NAMESPACE = uuid.UUID("6f1c2a57-3d0e-4f8b-9a61-2b7c5e0d9a13")

NOTICE_TITLE = "In-person meetings postponed (COVID-19)"
NOTICE_BODY = (
    "In-person meetings have been postponed until further notice due to COVID-19. "
    "We will reconvene as soon as it is safe, and have moved to virtual meetings instead."
)
NOTICE_STARTS = datetime.date(2020, 3, 15)
POSTPONE_NOTE = (
    "Postponed until further notice due to COVID-19. We will reconvene as soon as it is "
    "safe; until then we meet virtually."
)

# (title, program year, local start, postponed on, whether members had registered)
IN_PERSON = [
    (
        "Spring alliance meeting",
        "2019–2020",
        datetime.datetime(2020, 4, 23, 8, 30),
        datetime.date(2020, 3, 13),
        True,
    ),
    (
        "Fall alliance meeting",
        "2020–2021",
        datetime.datetime(2020, 10, 22, 8, 30),
        datetime.date(2020, 7, 15),
        False,
    ),
]
IN_PERSON_VENUE = ("Riverside Conference Center", "200 Riverfront Plaza\nChicago, IL 60601")
# Quarterly virtual alliance meetings, 13:00–15:00 (second Thursday of the month).
VIRTUAL_MEETINGS = [
    ("Fall 2020", 2020, 11),
    ("Winter 2021", 2021, 2),
    ("Spring 2021", 2021, 5),
    ("Summer 2021", 2021, 8),
]
# Monthly workgroup calls, October 2020 – September 2021: (nth, weekday, hour).
WORKGROUP_CALLS = {
    "workforce-safety": (2, 1, 12),  # second Tuesday, noon
    "opioids-sud": (3, 2, 14),  # third Wednesday, 2 pm
    "office-visit-dinosaur": (4, 3, 11),  # fourth Thursday, 11 am
}
CALL_MONTHS = [(2020, m) for m in (10, 11, 12)] + [(2021, m) for m in range(1, 10)]

GUESTS = {
    # key: (name, title, affiliation, bio)
    "marsh": (
        "Dr. Elena Marsh",
        "Patient safety researcher",
        "Fernhill Institute for Safer Care",
        "Studies how hospitals reach zero harm; formerly an intensivist.",
    ),
    "okonjo": (
        "Dr. Rafael Okonjo-Vance",
        "Chief Medical Officer",
        "Silverbrook Health",
        "Led a physician compact that made safety every doctor's job.",
    ),
    "ashdown": (
        "Margaret Ashdown, RN",
        "Chief Nursing Officer",
        "Pinecrest Regional Medical Center",
        "Built standard work and huddles that made care reliable around the clock.",
    ),
    "quill": (
        "Theodore Quill",
        "Board chair and trustee educator",
        "Northgate Community Hospital",
        "Chairs a board that spends its first hour on quality and safety.",
    ),
    "castellane": (
        "Dr. Naomi Castellane",
        "Improvement scientist",
        "Larkspur Center for Improvement",
        "Teaches leaders to read run charts and build a board dashboard.",
    ),
    "abernathy": (
        "Yusuf Abernathy-Cole",
        "Patient and family advisor",
        "Willow Bend Family Advisory Council",
        "Brought patients and families onto every improvement team of his hospital.",
    ),
    "solvang": (
        "Dr. Ingrid Solvang",
        "Physician engagement coach",
        "Hollowmere Physicians Network",
        "Helps medical staffs and executives agree on shared aims.",
    ),
    "delgado": (
        "Carmen Delgado-Reyes",
        "President and CEO",
        "Bayside Valley Health",
        "Published her system's harm rates and spread what worked to every site.",
    ),
}

MEASUREMENT = "Measurement for improvement"
PHYSICIANS = "Physician engagement"
TRUSTEES = "Trustee engagement in quality"
PATIENTS = "Patient and family involvement"
SPREAD = "Spreading improvement across the organization"
LIMIT = "Aiming for the theoretical limit"
CULTURE = "Safety culture and leadership walk-rounds"
RELIABILITY = "Reliability and standard work"
TRANSPARENCY = "Transparency and public reporting"
SUSTAIN = "Sustaining the gains"

# Ten sessions a year (none in August or December), each: (year, month, topic, guest).
COP_SESSIONS = [
    (2007, 4, LIMIT, "marsh"),
    (2007, 5, MEASUREMENT, "castellane"),
    (2007, 6, TRUSTEES, "quill"),
    (2007, 7, PHYSICIANS, "okonjo"),
    (2007, 9, PATIENTS, "abernathy"),
    (2007, 10, RELIABILITY, "ashdown"),
    (2007, 11, CULTURE, "marsh"),
    (2008, 1, TRANSPARENCY, "delgado"),
    (2008, 2, SPREAD, "solvang"),
    (2008, 3, SUSTAIN, "castellane"),
    (2008, 4, PHYSICIANS, "solvang"),
    (2008, 5, TRUSTEES, "quill"),
    (2008, 6, MEASUREMENT, "castellane"),
    (2008, 7, PATIENTS, "abernathy"),
    (2008, 9, SPREAD, "delgado"),
    (2008, 10, RELIABILITY, "ashdown"),
    (2008, 11, TRANSPARENCY, "okonjo"),
    (2009, 1, CULTURE, "marsh"),
    (2009, 2, LIMIT, "delgado"),
    (2009, 3, SUSTAIN, "castellane"),
]
DINNER_PLACES = {
    "Bluewater Community Hospital": "The Tide Pool Grill, Falmouth",
    "Elmstead Health System": "Elm & Ember Kitchen, Worcester",
    "Granite Ridge Health": "The Millrace Tavern, Lowell",
    "Harborlight Medical Center": "Lantern Wharf Oyster House, Gloucester",
    "Quarry Hill Hospital": "Quarryman's Table, Quincy",
}
SESSION_ENDS = datetime.time(16, 0)
WRAP_UP = "Reflections, commitments and next steps"


def load(alliances):
    _national(alliances[NATIONAL])
    _regional(alliances[REGIONAL])


# Helpers
# ------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, nth: int, weekday: int) -> datetime.date:
    """The nth (1-based) weekday (Monday 0) of a month."""
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _at(day: datetime.date, hour: int, minute: int, zone: str) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(zone)
    )


def _uid(alliance, title: str, start: datetime.datetime) -> uuid.UUID:
    # The same iCalendar UID on every fresh load of the demo.
    return uuid.uuid5(UID_NAMESPACE, f"{alliance.slug}|{title}|{start.isoformat()}")


def _existing(alliance, title: str, start: datetime.datetime) -> Meeting | None:
    """The demo meeting, found by its original start even after a postponement."""
    return (
        Meeting.objects.filter(alliance=alliance, title=title)
        .filter(Q(original_starts_at=start) | Q(original_starts_at__isnull=True, starts_at=start))
        .first()
    )


def _meeting(alliance, *, title: str, starts_at: datetime.datetime, **fields) -> Meeting:
    meeting = _existing(alliance, title, starts_at)
    if meeting is None:
        meeting = Meeting(
            alliance=alliance,
            title=title,
            starts_at=starts_at,
            uid=_uid(alliance, title, starts_at),
            **fields,
        )
        meeting.full_clean()
        meeting.save()
    return meeting


def _staff_user(alliance):
    staff = Membership.objects.filter(alliance=alliance, role=Role.ALLIANCE_STAFF)
    return staff.select_related("user").order_by("pk").first().user


def _people(alliance, role: str) -> dict[int, Membership]:
    """Active members with the role, by organization id (the first by pk)."""
    people = {}
    for membership in Membership.objects.filter(
        alliance=alliance, role=role, is_active=True, organization__isnull=False
    ).order_by("pk"):
        people.setdefault(membership.organization_id, membership)
    return people


def _register(meeting, memberships, response, responded_at) -> None:
    taken = set(meeting.registrations.values_list("membership_id", flat=True))
    Registration.objects.bulk_create(
        Registration(
            alliance=meeting.alliance,
            meeting=meeting,
            membership=membership,
            response=response,
            responded_at=responded_at,
        )
        for membership in memberships
        if membership.pk not in taken
    )


def _complete(meetings) -> None:
    # Demo history: these dates are long past. No service marks a meeting completed
    # yet, and a completion is not a change registrants are told about.
    Meeting.objects.filter(pk__in=[m.pk for m in meetings], status=Meeting.Status.SCHEDULED).update(
        status=Meeting.Status.COMPLETED
    )


# The national alliance
# ------------------------------------------------------------------------------


def _national(alliance):
    zone = alliance.time_zone
    with scope(alliance=alliance):
        Notice.objects.get_or_create(
            alliance=alliance,
            title=NOTICE_TITLE,
            defaults={"body": NOTICE_BODY, "starts_on": NOTICE_STARTS, "ends_on": None},
        )
        years = {y.name: y for y in ProgramYear.objects.filter(alliance=alliance)}
        year = years["2020–2021"]
        ceos = list(_people(alliance, Role.CEO).values())
        quality = list(_people(alliance, Role.QUALITY_LEAD).values())
        _postponed_in_person(alliance, years, ceos, zone)

        rng = random.Random(2021)  # noqa: S311  (reproducible demo values, not secrets)
        past = []
        for season, year_number, month in VIRTUAL_MEETINGS:
            day = _nth_weekday(year_number, month, 2, 3)
            start = _at(day, 13, 0, zone)
            meeting = _meeting(
                alliance,
                title=f"Virtual alliance meeting — {season}",
                starts_at=start,
                ends_at=start + datetime.timedelta(hours=2),
                program_year=year,
                kind=Meeting.Kind.ALLIANCE_MEETING,
                format=Meeting.Format.VIRTUAL,
                time_zone=zone,
                join_url=f"https://meet.example.org/leadership-alliance/{day:%Y-%m-%d}",
                description=(
                    "The whole alliance, online while in-person meetings are postponed: "
                    "workgroup progress, the collective voice, and the next quarter's plans."
                ),
            )
            attendees = ceos + quality
            _register(
                meeting,
                attendees,
                Registration.Response.VIRTUAL,
                start - datetime.timedelta(days=14),
            )
            # Draw for everyone, every load: the same people attend each time.
            came = {m.pk for m in attendees if rng.random() < 0.85}
            services.attendance_record(meeting=meeting, attended=came)
            past.append(meeting)

        for slug, (nth, weekday, hour) in WORKGROUP_CALLS.items():
            workgroup = Workgroup.objects.get(alliance=alliance, slug=slug)
            for year_number, month in CALL_MONTHS:
                start = _at(_nth_weekday(year_number, month, nth, weekday), hour, 0, zone)
                past.append(
                    _meeting(
                        alliance,
                        title=f"{workgroup.name} call — {start:%B %Y}",
                        starts_at=start,
                        ends_at=start + datetime.timedelta(hours=1),
                        program_year=workgroup.program_year,
                        kind=Meeting.Kind.WORKGROUP_CALL,
                        format=Meeting.Format.VIRTUAL,
                        time_zone=zone,
                        workgroup=workgroup,
                        join_url=f"https://meet.example.org/leadership-alliance/{slug}",
                        description=f"The monthly call of the {workgroup.name} workgroup.",
                    )
                )
        _complete(past)


def _postponed_in_person(alliance, years, ceos, zone) -> None:
    staff = _staff_user(alliance)
    for title, year_name, local_start, postponed_on, registered in IN_PERSON:
        start = _at(local_start.date(), local_start.hour, local_start.minute, zone)
        meeting = _meeting(
            alliance,
            title=title,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=8),
            program_year=years[year_name],
            kind=Meeting.Kind.ALLIANCE_MEETING,
            format=Meeting.Format.IN_PERSON,
            time_zone=zone,
            venue=IN_PERSON_VENUE[0],
            address=IN_PERSON_VENUE[1],
            audience=Audience.ALL_MEMBERS,
            description="A day of learning together: member stories and workgroup sessions.",
        )
        if registered:
            _register(
                meeting,
                ceos,
                Registration.Response.IN_PERSON,
                start - datetime.timedelta(days=60),
            )
        if meeting.status == Meeting.Status.SCHEDULED and meeting.original_starts_at is None:
            services.meeting_postpone(meeting=meeting, by=staff, note=POSTPONE_NOTE)
            # The change happened then, not when the demo was loaded.
            MeetingChange.objects.filter(meeting=meeting).update(
                changed_at=_at(postponed_on, 15, 0, zone)
            )


# The regional program
# ------------------------------------------------------------------------------


def _regional(alliance):
    zone = "America/New_York"
    with scope(alliance=alliance):
        program_year = ProgramYear.objects.get(alliance=alliance)
        hosts = list(Organization.objects.filter(alliance=alliance).order_by("name"))
        speakers = {}
        for key, (name, title, affiliation, bio) in GUESTS.items():
            speakers[key], _ = Speaker.objects.update_or_create(
                alliance=alliance,
                name=name,
                defaults={"title": title, "affiliation": affiliation, "bio": bio},
            )
        ceos = _people(alliance, Role.CEO)
        quality = _people(alliance, Role.QUALITY_LEAD)
        rng = random.Random(2007)  # noqa: S311  (reproducible demo values, not secrets)
        sessions = []
        for number, (year_number, month, topic, guest) in enumerate(COP_SESSIONS, start=1):
            host = hosts[(number - 1) % len(hosts)]
            # Thursdays, and every other session a Wednesday; dinner before or after.
            day = (
                _nth_weekday(year_number, month, 2, 3)
                if number % 2
                else _nth_weekday(year_number, month, 3, 2)
            )
            dinner_day = day - datetime.timedelta(days=1) if number % 2 else day
            meeting = _cop_session(
                program_year,
                host=host,
                title=f"Community of practice {number}: {topic}",
                starts_at=_at(day, 9, 0, zone),
                zone=zone,
                topic=topic,
                guest=speakers[guest],
                dinner_at=_at(dinner_day, 18, 30 if number % 2 else 0, zone),
                dinner_place=DINNER_PLACES.get(host.name, f"A restaurant near {host.name}"),
                ceo=ceos.get(host.pk),
                head_of_quality=quality.get(host.pk),
            )
            # The five CEOs (no substitutes); the host's head of Quality and the next one's.
            invited = [ceos[h.pk] for h in hosts if h.pk in ceos]
            partners = [host, hosts[number % len(hosts)]]
            invited += [quality[h.pk] for h in partners if h.pk in quality]
            _register(
                meeting,
                invited,
                Registration.Response.IN_PERSON,
                _at(day - datetime.timedelta(days=21), 10, 0, zone),
            )
            came = {m.pk for m in invited if rng.random() < 0.9 or m.organization_id == host.pk}
            services.attendance_record(meeting=meeting, attended=came)
            sessions.append(meeting)
        _complete(sessions)


def _cop_session(
    program_year, *, host, title, starts_at, zone, ceo, head_of_quality, **details
) -> Meeting:
    alliance = program_year.alliance
    meeting = _existing(alliance, title, starts_at)
    if meeting is not None:
        return meeting
    meeting = services.cop_session_create(
        program_year=program_year,
        host=host,
        starts_at=starts_at,
        time_zone=zone,
        title=title,
        **details,
    )
    # The standard agenda ends at 14:45; the day closes with the group's reflections.
    last = meeting.agenda.order_by("-order").first()
    wrap_up_at = last.starts_at + datetime.timedelta(minutes=last.duration_minutes)
    ends_at = datetime.datetime.combine(starts_at.date(), SESSION_ENDS, tzinfo=starts_at.tzinfo)
    AgendaItem.objects.create(
        meeting=meeting,
        order=last.order + 1,
        starts_at=wrap_up_at,
        duration_minutes=int((ends_at - wrap_up_at).total_seconds() // 60),
        title=WRAP_UP,
        kind=AgendaItem.Kind.OTHER,
    )
    meeting.agenda.filter(kind=AgendaItem.Kind.HOST_EXAMPLE).update(
        presenter_member=head_of_quality or ceo
    )
    meeting.agenda.filter(kind=AgendaItem.Kind.GAME_PLAN).update(presenter_member=ceo)
    Meeting.objects.filter(pk=meeting.pk).update(
        ends_at=ends_at, uid=_uid(alliance, title, starts_at)
    )
    meeting.refresh_from_db()
    return meeting
