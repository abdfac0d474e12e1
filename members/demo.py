"""Demo people, organizations and faculty (called by `manage.py load_demo`).

Everyone here is fictional except the three roundtable faculty, who are named
in the national alliance's public description. These people are directory
entries, not logins: the demo logins are in alliance/demo.py.
"""

from django_scopes import scope

from alliance.demo import NATIONAL, REGIONAL

from .models import Organization, Role, Speaker
from .services import membership_upsert, user_upsert

ORGANIZATIONS = {
    # name: (kind, city, region)
    "Cedar Valley Health": (Organization.Kind.HEALTH_SYSTEM, "Cedar Rapids", "IA"),
    "Lakeshore Health Partners": (Organization.Kind.HEALTH_SYSTEM, "Duluth", "MN"),
    "Mesa Verde Medical Group": (Organization.Kind.PHYSICIAN_GROUP, "Albuquerque", "NM"),
    "Northbridge Community Health": (Organization.Kind.HOSPITAL, "Burlington", "VT"),
    "Prairie Rivers Health System": (Organization.Kind.HEALTH_SYSTEM, "Omaha", "NE"),
    "Tidewater Care Network": (Organization.Kind.LONG_TERM_CARE, "Norfolk", "VA"),
    "Bluewater Community Hospital": (Organization.Kind.HOSPITAL, "Falmouth", "MA"),
    "Elmstead Health System": (Organization.Kind.HEALTH_SYSTEM, "Worcester", "MA"),
    "Granite Ridge Health": (Organization.Kind.HEALTH_SYSTEM, "Lowell", "MA"),
    "Harborlight Medical Center": (Organization.Kind.HOSPITAL, "Gloucester", "MA"),
    "Quarry Hill Hospital": (Organization.Kind.HOSPITAL, "Quincy", "MA"),
}

# (role, title) of the people each organization gets, beyond the demo logins.
POSITIONS = [
    (Role.CEO, "President and CEO"),
    (Role.QUALITY_LEAD, "Chief Quality Officer"),
    (Role.PHYSICIAN_LEADER, "Chief Medical Officer"),
    (Role.TRUSTEE, "Trustee, Quality Committee Chair"),
    (Role.STAFF_LIAISON, "Director, Performance Improvement"),
]
FIRST = [
    "Amara",
    "Jonah",
    "Rosa",
    "Ikaika",
    "Mei",
    "Tobias",
    "Nadia",
    "Samuel",
    "Priyanka",
    "Declan",
    "Ines",
    "Kwame",
    "Lucia",
    "Oren",
    "Fatima",
    "Hugo",
    "Yara",
    "Malik",
]
LAST = [
    "Abernathy",
    "Bautista",
    "Castellanos",
    "Delacroix",
    "Eriksen",
    "Fairbanks",
    "Goldberg",
    "Haddad",
    "Iwasaki",
    "Jankowski",
    "Kowalczyk",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okonkwo",
    "Petrakis",
    "Quintero",
    "Rasmussen",
    "Sorensen",
    "Thibodeaux",
]

FACULTY = [
    ("Derek Feeley", "Faculty, Leadership Virtual Roundtables"),
    ("Don Berwick", "Faculty, Leadership Virtual Roundtables"),
    ("Maureen Bisognano", "Faculty, Leadership Virtual Roundtables"),
]
FACULTY_BIO = (
    "Facilitates the alliance's quarterly Leadership Virtual Roundtables: webinar "
    "discussions of top-of-mind, current issues with innovative leaders and national "
    "authorities in and outside of health care."
)


def load(alliances):
    counter = 0
    for slug, alliance in alliances.items():
        with scope(alliance=alliance):
            organizations = Organization.objects.filter(alliance=alliance).order_by("name")
            for organization in organizations:
                kind, city, region = ORGANIZATIONS[organization.name]
                Organization.objects.filter(pk=organization.pk).update(
                    kind=kind, city=city, region=region
                )
                taken = set(organization.memberships.values_list("role", flat=True))
                # The regional program's heads of Quality and CEOs; trustees too.
                for role, title in POSITIONS[: 4 if slug == REGIONAL else 5]:
                    if role in taken:
                        continue
                    first, last = FIRST[counter % len(FIRST)], LAST[counter % len(LAST)]
                    counter += 1
                    domain = organization.name.split()[0].lower()
                    user = user_upsert(
                        email=f"{first}.{last}@{domain}.example".lower(),
                        full_name=f"{first} {last}",
                    )
                    membership_upsert(
                        user=user,
                        alliance=alliance,
                        role=role,
                        organization=organization,
                        title=title,
                    )
            if slug == NATIONAL:
                for name, title in FACULTY:
                    Speaker.objects.update_or_create(
                        alliance=alliance, name=name, defaults={"title": title, "bio": FACULTY_BIO}
                    )
            first_organization = organizations.first()
            if first_organization:
                first_organization.memberships.filter(role=Role.CEO).update(is_primary_contact=True)
