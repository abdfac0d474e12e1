"""The two reference alliances, from the public descriptions in ../shared/seeds/.

Organizations and people are invented and clearly fictional (".example"
addresses). Each app may add its own demo content in `<app>/demo.py` with a
`load(alliances)` function; `load_demo` calls them in INSTALLED_APPS order.
"""

import datetime
from dataclasses import dataclass

from django_scopes import scope

from members.models import Organization, Role
from members.services import membership_upsert, staff_group_sync, user_upsert

from .models import Alliance, ProgramYear

NATIONAL = "leadership-alliance"
REGIONAL = "lead"

ALLIANCES = [
    {
        "slug": NATIONAL,
        "name": "Leadership Alliance",
        "short_name": "Leadership Alliance",
        "time_zone": "America/New_York",
        "brand_colour": "#1d4f91",
        "contact_name": "Alliance staff",
        "contact_email": "help@leadership-alliance.example",
        "digest_cadence": Alliance.DigestCadence.MONTHLY,
        "description": (
            "A national network of health care leaders. Members collectively agree on areas "
            "to focus energy and design workgroups with measurable aims, meet (virtually "
            "while in-person meetings are postponed due to COVID-19), join quarterly "
            "Leadership Virtual Roundtables, and contribute to the alliance's collective "
            "voice through reports, journal articles, stakeholder meetings and media."
        ),
        "program_years": [
            ("2019–2020", datetime.date(2019, 10, 1), datetime.date(2020, 9, 30)),
            ("2020–2021", datetime.date(2020, 10, 1), datetime.date(2021, 9, 30)),
        ],
        "organizations": [
            "Cedar Valley Health",
            "Lakeshore Health Partners",
            "Mesa Verde Medical Group",
            "Northbridge Community Health",
            "Prairie Rivers Health System",
            "Tidewater Care Network",
        ],
    },
    {
        "slug": REGIONAL,
        "name": "LEAD CEO Program",
        "short_name": "LEAD",
        "time_zone": "America/New_York",
        "brand_colour": "#0b6e4f",
        "contact_name": "LEAD program office",
        "contact_email": "lead@lead-program.example",
        "digest_cadence": Alliance.DigestCadence.MONTHLY,
        "description": (
            "A 24-month program (April 2007 – March 2009) for five provider organizations "
            "chosen for their leadership and commitment to quality and safety. Each sets 3–5 "
            "audacious (theoretical limit) safety and quality goals, engages trustees through "
            "a quality education program, raises physician engagement and involves patients "
            "and families. The CEOs meet as a community of practice for 10 one-day sessions "
            "a year, no substitutes; heads of Quality join for parts."
        ),
        "program_years": [
            ("April 2007 – March 2009", datetime.date(2007, 4, 1), datetime.date(2009, 3, 31)),
        ],
        "organizations": [
            "Bluewater Community Hospital",
            "Elmstead Health System",
            "Granite Ridge Health",
            "Harborlight Medical Center",
            "Quarry Hill Hospital",
        ],
    },
]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    alliance_slug: str
    role: str
    organization: str | None
    title: str


PEOPLE = [
    DemoPerson(
        "maya.okafor@cedarvalley.example",
        "Maya Okafor",
        NATIONAL,
        Role.CEO,
        "Cedar Valley Health",
        "President and CEO",
    ),
    DemoPerson(
        "li.chen@cedarvalley.example",
        "Li Chen",
        NATIONAL,
        Role.QUALITY_LEAD,
        "Cedar Valley Health",
        "Chief Quality Officer",
    ),
    DemoPerson(
        "omar.haddad@lakeshore.example",
        "Omar Haddad",
        NATIONAL,
        Role.CEO,
        "Lakeshore Health Partners",
        "Chief Executive Officer",
    ),
    DemoPerson(
        "jordan.reyes@leadership-alliance.example",
        "Jordan Reyes",
        NATIONAL,
        Role.ALLIANCE_STAFF,
        None,
        "Program Director",
    ),
    DemoPerson(
        "priya.raman@harborlight.example",
        "Priya Raman",
        REGIONAL,
        Role.QUALITY_LEAD,
        "Harborlight Medical Center",
        "Vice President, Quality and Safety",
    ),
    DemoPerson(
        "tom.brennan@granite-ridge.example",
        "Tom Brennan",
        REGIONAL,
        Role.CEO,
        "Granite Ridge Health",
        "President and CEO",
    ),
    DemoPerson(
        "alex.morgan@lead-program.example",
        "Alex Morgan",
        REGIONAL,
        Role.ALLIANCE_STAFF,
        None,
        "LEAD Program Manager",
    ),
    # One person in both alliances: led Harborlight during LEAD, later Northbridge.
    DemoPerson(
        "dana.whitfield@example.org",
        "Dana Whitfield",
        REGIONAL,
        Role.CEO,
        "Harborlight Medical Center",
        "President and CEO",
    ),
    DemoPerson(
        "dana.whitfield@example.org",
        "Dana Whitfield",
        NATIONAL,
        Role.CEO,
        "Northbridge Community Health",
        "Chief Executive Officer",
    ),
]


def load_core(*, password: str) -> dict[str, Alliance]:
    """Create or update the alliances, program years, organizations and people."""
    staff_group_sync()
    alliances = {}
    for spec in ALLIANCES:
        fields = {
            k: v for k, v in spec.items() if k not in {"slug", "program_years", "organizations"}
        }
        alliance, _ = Alliance.objects.update_or_create(slug=spec["slug"], defaults=fields)
        alliances[alliance.slug] = alliance
        with scope(alliance=alliance):
            for name, starts_on, ends_on in spec["program_years"]:
                ProgramYear.objects.update_or_create(
                    alliance=alliance,
                    name=name,
                    defaults={"starts_on": starts_on, "ends_on": ends_on},
                )
            for name in spec["organizations"]:
                Organization.objects.get_or_create(alliance=alliance, name=name)
    for person in PEOPLE:
        alliance = alliances[person.alliance_slug]
        user = user_upsert(email=person.email, full_name=person.full_name, password=password)
        with scope(alliance=alliance):
            organization = (
                Organization.objects.get(alliance=alliance, name=person.organization)
                if person.organization
                else None
            )
            membership_upsert(
                user=user,
                alliance=alliance,
                role=person.role,
                organization=organization,
                title=person.title,
            )
    return alliances


def demo_logins() -> list[tuple[str, str, str, int]]:
    """(email, alliance slug, role, is_staff) for every demo login."""
    return [(p.email, p.alliance_slug, p.role, int(p.role == Role.ALLIANCE_STAFF)) for p in PEOPLE]
