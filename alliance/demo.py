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


# Documents: the prospectus, and the collective voice
# ------------------------------------------------------------------------------


def simple_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines`: enough for a real download in the demo."""

    def escape(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 14 Tf 72 740 Td 20 TL " + " ".join(f"({escape(t)}) '" for t in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text.encode('latin-1'))} >>\nstream\n{text}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


PROSPECTUS_LINES = [
    "Leadership Alliance Prospectus, October 2020 - September 2021",
    "Alliance members participate in a variety of engagement activities",
    "throughout the program year: virtual alliance meetings, workgroups with",
    "measurable aims, quarterly Leadership Virtual Roundtables, and a collective",
    "voice in reports, journals, stakeholder meetings and the media.",
]

# (kind, title, date, venue, workgroup slug or "", summary, author count)
PUBLICATIONS = [
    (
        "report",
        "Cutting injuries to health care workers: what our members learned",
        datetime.date(2021, 6, 15),
        "Leadership Alliance report",
        "workforce-safety",
        "How member organizations reduced OSHA recordable injury and DART rates, "
        "and the practices other systems can adopt.",
        3,
    ),
    (
        "journal_article",
        "Medication for opioid use disorder in every setting: a CEO agenda",
        datetime.date(2021, 3, 2),
        "Journal of Health Care Leadership (illustrative)",
        "opioids-sud",
        "Why access to Medication Assisted Treatment is a leadership decision.",
        2,
    ),
    (
        "stakeholder_meeting",
        "Briefing for state health officials on safe opioid prescribing",
        datetime.date(2021, 5, 11),
        "State health department, virtual",
        "opioids-sud",
        "",
        2,
    ),
    (
        "traditional_media",
        "Op-ed: The office visit is a dinosaur",
        datetime.date(2020, 11, 30),
        "Regional newspaper (illustrative)",
        "office-visit-dinosaur",
        "Care designed around the patient's time, place and terms.",
        1,
    ),
    (
        "social_media",
        "Ten lessons from a year of virtual care",
        datetime.date(2021, 8, 24),
        "LinkedIn series",
        "office-visit-dinosaur",
        "",
        1,
    ),
]


def load_content(alliances: dict[str, Alliance]) -> None:
    """The national alliance's prospectus and collective voice (after the apps' demo)."""
    from django.core.files.base import ContentFile

    from members.models import Membership
    from workgroups.models import Workgroup

    from .models import Publication, Resource

    alliance = alliances[NATIONAL]
    with scope(alliance=alliance):
        year = ProgramYear.objects.get(alliance=alliance, name="2020–2021")
        if not Resource.objects.filter(alliance=alliance, kind=Resource.Kind.PROSPECTUS).exists():
            prospectus = Resource(
                alliance=alliance,
                program_year=year,
                title="Leadership Alliance Prospectus 2020–2021",
                kind=Resource.Kind.PROSPECTUS,
                description="The program year's engagement activities and what members commit to.",
                published_on=datetime.date(2020, 9, 1),
            )
            prospectus.file.save(
                "leadership-alliance-prospectus-2020-2021.pdf",
                ContentFile(simple_pdf(PROSPECTUS_LINES)),
                save=False,
            )
            prospectus.save()
        ceos = list(
            Membership.objects.filter(alliance=alliance, role=Role.CEO, is_active=True)
            .select_related("organization")
            .order_by("pk")
        )
        workgroups = {w.slug: w for w in Workgroup.objects.filter(alliance=alliance)}
        for index, (kind, title, day, venue, slug, summary, count) in enumerate(PUBLICATIONS):
            publication, created = Publication.objects.get_or_create(
                alliance=alliance,
                title=title,
                defaults={
                    "kind": kind,
                    "published_on": day,
                    "venue": venue,
                    "url": f"https://leadership-alliance.example/voice/{index + 1}",
                    "summary": summary,
                    "workgroup": workgroups.get(slug),
                },
            )
            if created:
                authors = ceos[index * 2 : index * 2 + count]
                publication.author_members.set(authors)
                publication.author_organizations.set({a.organization for a in authors})
