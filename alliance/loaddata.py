"""Generated load data: many alliances of valid, realistic rows for performance work.

`manage.py generate_load_data --scale S|M|L` calls `generate()`; a benchmark may
call `build_alliance()` with its own sizes (e.g. one alliance of 10,000 CEOs and
no readings). Load alliances are `load-01`, `load-02`…; their people are
`ceo.0001@load-01.example` and the like, so `flush_load_data()` finds every load
row and never touches another alliance.

Rows are written in bulk, never by `save()`: no signals, no history rows. Every
table goes through `bulk_create` except the readings, which are most of the rows:
they go through `_insert_prepared` (COPY on PostgreSQL, multi-row INSERTs
elsewhere), five to seven times faster. Every user shares one password hash.
Values come from the `random.Random` passed in, so the same seed makes the same
rows (apart from ids and the dates, which follow today: the program year always
contains today; pass `today` to pin them).
"""

import datetime
import io
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connections, router, transaction
from django.db.models import Model
from django.utils import timezone
from django_scopes import scope

from members.models import Membership, Organization, Role, Speaker, User
from members.services import staff_group_sync
from roundtables.models import Roundtable, RoundtableRegistration
from sessions.models import AgendaItem, Audience, Guest, Meeting, Registration
from workgroups.models import Aim, FocusArea, Measure, Participation, Reading, Workgroup
from workgroups.periods import last_closed_period

from .models import Alliance, ProgramYear

BATCH_SIZE = 5000
SLUG_REGEX = r"^load-[0-9]+$"
EMAIL_REGEX = r"@load-[0-9]+\.example$"
UID_NAMESPACE = uuid.UUID("5d0c4f1e-8a3b-4c2d-9e7f-1a2b3c4d5e6f")
D = Decimal


READING_FIELDS = [
    "alliance",
    "measure",
    "organization",
    "period_start",
    "numerator",
    "denominator",
    "entered_by",
    "entered_at",
    "updated_by",
    "updated_at",
]


class LoadDataPresent(Exception):
    """The database already holds load data: use a fresh one, or flush first."""


@dataclass(frozen=True)
class Scale:
    """Sizes in all alliances together (split evenly), except the per-item ones."""

    alliances: int
    organizations: int
    members_per_organization: int
    meetings: int
    workgroups: int
    measures_per_workgroup: int
    months: int
    participants_per_workgroup: int
    registrations_per_meeting: int = 10
    roundtables_per_alliance: int = 4
    registrations_per_roundtable: int = 25

    @property
    def reading_slots(self) -> int:
        """Readings if no period were missing."""
        return (
            self.workgroups
            * self.measures_per_workgroup
            * self.months
            * self.participants_per_workgroup
        )


SCALES = {
    # 1,440 reading slots: quick enough for a test.
    "S": Scale(
        alliances=2,
        organizations=60,
        members_per_organization=4,
        meetings=40,
        workgroups=4,
        measures_per_workgroup=3,
        months=12,
        participants_per_workgroup=10,
    ),
    # 320 measures × 36 months × 40 organizations = 460,800 slots (~455,000 readings).
    "M": Scale(
        alliances=4,
        organizations=1000,
        members_per_organization=4,
        meetings=1200,
        workgroups=40,
        measures_per_workgroup=8,
        months=36,
        participants_per_workgroup=40,
    ),
    # 1,600 measures × 12 months × 41 organizations = 787,200 slots (~770,000 readings).
    "L": Scale(
        alliances=20,
        organizations=10000,
        members_per_organization=1,
        meetings=2000,
        workgroups=200,
        measures_per_workgroup=8,
        months=12,
        participants_per_workgroup=41,
    ),
}


class PhaseTimer:
    """Seconds spent per phase, summed over alliances."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started


def split(total: int, parts: int, index: int) -> int:
    """The `index`-th (0-based) of `parts` near-equal shares of `total`."""
    return total // parts + (1 if index < total % parts else 0)


def slug_for(index: int) -> str:
    return f"load-{index:02d}"


# Names and texts
# ------------------------------------------------------------------------------

# fmt: off
FIRST = [
    "Amara", "Jonah", "Rosa", "Ikaika", "Mei", "Tobias", "Nadia", "Samuel", "Priyanka",
    "Declan", "Ines", "Kwame", "Lucia", "Oren", "Fatima", "Hugo", "Yara", "Malik", "Greta",
    "Ravi", "Sofia", "Elijah", "Hana", "Mateo", "Zainab", "Felix", "Aiko", "Dmitri",
]
# fmt: on
# fmt: off
LAST = [
    "Abernathy", "Bautista", "Castellanos", "Delacroix", "Eriksen", "Fairbanks", "Goldberg",
    "Haddad", "Iwasaki", "Jankowski", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura",
    "Okonkwo", "Petrakis", "Quintero", "Rasmussen", "Sorensen", "Thibodeaux", "Underwood",
    "Valdez", "Whitaker", "Xiong", "Yamamoto", "Zielinski",
]
# fmt: on
# fmt: off
PLACES = [
    "Cedar Valley", "Lakeshore", "Mesa Verde", "Northbridge", "Prairie Rivers", "Tidewater",
    "Bluewater", "Elmstead", "Granite Ridge", "Harborlight", "Quarry Hill", "Silver Creek",
    "Pine Hollow", "Riverbend", "Summit", "Oak Harbor", "Red Rock", "Willow Springs",
    "Stonebridge", "Fox Valley", "Maple Grove", "Clearwater", "High Plains", "Bayview",
]
# fmt: on
KINDS = [
    (Organization.Kind.HOSPITAL, "Hospital", 40),
    (Organization.Kind.HEALTH_SYSTEM, "Health System", 30),
    (Organization.Kind.PHYSICIAN_GROUP, "Medical Group", 15),
    (Organization.Kind.LONG_TERM_CARE, "Care Network", 10),
    (Organization.Kind.OTHER, "Community Health", 5),
]
# fmt: off
CITIES = [
    ("Cedar Rapids", "IA"), ("Duluth", "MN"), ("Albuquerque", "NM"), ("Burlington", "VT"),
    ("Omaha", "NE"), ("Norfolk", "VA"), ("Falmouth", "MA"), ("Worcester", "MA"),
    ("Spokane", "WA"), ("Boise", "ID"), ("Tulsa", "OK"), ("Macon", "GA"), ("Fresno", "CA"),
    ("Erie", "PA"), ("Madison", "WI"), ("Billings", "MT"), ("Asheville", "NC"), ("Provo", "UT"),
]
# fmt: on
# (role, email prefix, title): the first n of these for n members per organization.
POSITIONS = [
    (Role.CEO, "ceo", "President and CEO"),
    (Role.QUALITY_LEAD, "quality", "Chief Quality Officer"),
    (Role.TRUSTEE, "trustee", "Trustee, Quality Committee Chair"),
    (Role.PHYSICIAN_LEADER, "physician", "Chief Medical Officer"),
    (Role.STAFF_LIAISON, "liaison", "Director, Performance Improvement"),
]
BRAND_COLOURS = ["#1d4f91", "#0b6e4f", "#7a2e8e", "#a33b20", "#225560", "#5b4a14"]
# fmt: off
MEETING_TOPICS = [
    "Measurement for improvement", "Physician engagement", "Engaging trustees in quality",
    "Patients and families as partners", "Workforce safety", "Health equity",
    "Zero harm", "Virtual care", "Leading through a crisis", "Spreading what works",
]
# fmt: on
# fmt: off
ROUNDTABLE_TOPICS = [
    "Burnout, moral injury and the joy of work", "Leading through the next wave",
    "Equity as a quality problem", "What the pandemic taught us about care redesign",
    "Boards that own quality", "Safety culture from the top",
]
# fmt: on


@dataclass(frozen=True)
class MeasureTemplate:
    name: str
    kind: str
    direction: str
    multiplier: int
    unit: str
    numerator_label: str
    denominator_label: str
    base: float  # a typical value (rate, % or count) before improvement
    size: tuple[int, int]  # the range of an organization's monthly denominator (or scale)


RATE, PERCENTAGE, COUNT = Measure.Kind.RATE, Measure.Kind.PERCENTAGE, Measure.Kind.COUNT
LOWER, HIGHER = Measure.Direction.LOWER, Measure.Direction.HIGHER
HOURS = "Hours worked"
# fmt: off
TEMPLATES = {
    t.name: t
    for t in [
        MeasureTemplate("OSHA recordable injury rate", RATE, LOWER, 200000, "per 200,000 hours",
                        "Recordable injuries", HOURS, 5.2, (40_000, 400_000)),
        MeasureTemplate("DART rate", RATE, LOWER, 200000, "per 200,000 hours",
                        "DART cases", HOURS, 2.6, (40_000, 400_000)),
        MeasureTemplate("Patient handling injury rate", RATE, LOWER, 200000, "per 200,000 hours",
                        "Patient handling injuries", HOURS, 1.4, (40_000, 400_000)),
        MeasureTemplate("Workplace violence incidents", RATE, LOWER, 200000, "per 200,000 hours",
                        "Incidents", HOURS, 1.1, (40_000, 400_000)),
        MeasureTemplate("Patients with opioid use disorder offered MAT", PERCENTAGE, HIGHER, 1,
                        "%", "Patients offered MAT", "Patients with opioid use disorder", 38.0,
                        (30, 150)),
        MeasureTemplate("Opioid prescriptions over 50 MME per day", PERCENTAGE, LOWER, 1, "%",
                        "Prescriptions over 50 MME", "Opioid prescriptions", 14.0, (80, 600)),
        MeasureTemplate("Naloxone co-prescribed with high-dose opioids", PERCENTAGE, HIGHER, 1,
                        "%", "Co-prescribed", "High-dose opioid prescriptions", 30.0, (20, 120)),
        MeasureTemplate("Central line–associated bloodstream infections", RATE, LOWER, 1000,
                        "per 1,000 line days", "CLABSI", "Central line days", 1.1, (300, 3000)),
        MeasureTemplate("Catheter-associated urinary tract infections", RATE, LOWER, 1000,
                        "per 1,000 catheter days", "CAUTI", "Catheter days", 1.3, (300, 3000)),
        MeasureTemplate("Hand hygiene compliance", PERCENTAGE, HIGHER, 1, "%",
                        "Compliant observations", "Observations", 78.0, (100, 800)),
        MeasureTemplate("Falls with injury", RATE, LOWER, 1000, "per 1,000 patient days",
                        "Falls with injury", "Patient days", 0.7, (2000, 20000)),
        MeasureTemplate("Hospital-acquired pressure injuries (stage 3+)", COUNT, LOWER, 1, "",
                        "Pressure injuries", "", 2.0, (1, 1)),
        MeasureTemplate("Serious safety events", COUNT, LOWER, 1, "", "Events", "", 1.5, (1, 1)),
        MeasureTemplate("30-day readmissions", PERCENTAGE, LOWER, 1, "%", "Readmissions",
                        "Discharges", 15.0, (200, 2000)),
        MeasureTemplate("Visits offered virtually", PERCENTAGE, HIGHER, 1, "%",
                        "Virtual visits", "All visits", 18.0, (500, 5000)),
        MeasureTemplate("Heart failure all-or-none bundle", PERCENTAGE, HIGHER, 1, "%",
                        "Patients receiving every element", "Heart failure patients", 71.0,
                        (20, 200)),
        MeasureTemplate("Sepsis bundle compliance", PERCENTAGE, HIGHER, 1, "%",
                        "Patients receiving the bundle", "Patients with sepsis", 58.0, (20, 200)),
        MeasureTemplate("Adverse drug events", RATE, LOWER, 1000, "per 1,000 patient days",
                        "Adverse drug events", "Patient days", 2.2, (2000, 20000)),
    ]
}
# fmt: on
# (name, description, focus areas, measures it starts with; the rest come from all).
# fmt: off
THEMES = [
    ("Workforce Safety", "Reduce our aggregate OSHA recordable injury and DART rates by 25%.",
     ["Safe patient handling", "Preventing workplace violence"],
     ["OSHA recordable injury rate", "DART rate", "Patient handling injury rate",
      "Workplace violence incidents"]),
    ("Opioids and Substance Use Disorder",
     "Identify high-leverage strategies for organizations at different levels of maturity.",
     ["Increasing access to Medication Assisted Treatment.",
      "Safe and appropriate opioid prescribing in at least one setting."],
     ["Patients with opioid use disorder offered MAT", "Opioid prescriptions over 50 MME per day",
      "Naloxone co-prescribed with high-dose opioids"]),
    ("Infection Prevention", "Zero central line and catheter infections in every unit.",
     ["Line and catheter bundles", "Hand hygiene everywhere"],
     ["Central line–associated bloodstream infections",
      "Catheter-associated urinary tract infections", "Hand hygiene compliance"]),
    ("Zero Harm", "Halve serious harm to patients within two years.",
     ["Falls and pressure injuries"],
     ["Falls with injury", "Hospital-acquired pressure injuries (stage 3+)",
      "Serious safety events"]),
    ("The Office Visit is a Dinosaur",
     "Redesign care around what works for the patient: time, place and mechanisms.",
     ["Care at home and online"], ["Visits offered virtually", "30-day readmissions"]),
    ("Reliable Care", "Every patient receives all the evidence-based care, every time.",
     ["All-or-none bundles"],
     ["Heart failure all-or-none bundle", "Sepsis bundle compliance", "Adverse drug events"]),
]
# fmt: on
STANDARD_AGENDA = [
    (60, AgendaItem.Kind.HOST_EXAMPLE, "The host's improvement example"),
    (45, AgendaItem.Kind.GAME_PLAN, "The host CEO's game plan and progress"),
    (15, AgendaItem.Kind.BREAK, "Break"),
    (75, AgendaItem.Kind.GUEST_PRESENTATION, "Featured guest presentation"),
    (60, AgendaItem.Kind.MEAL, "Lunch"),
    (90, AgendaItem.Kind.DISCUSSION, "Discussion on the shared topic"),
]
MEETING_AGENDA = [
    (20, AgendaItem.Kind.OTHER, "Welcome and introductions"),
    (60, AgendaItem.Kind.OTHER, "Workgroup progress reports"),
    (40, AgendaItem.Kind.DISCUSSION, "Discussion"),
]
CALL_AGENDA = [
    (30, AgendaItem.Kind.OTHER, "Review of the pooled run charts"),
    (30, AgendaItem.Kind.DISCUSSION, "What is working, and what is next"),
]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=datetime.UTC)


def _uid(slug: str, kind: str, number: int) -> uuid.UUID:
    # Stable iCalendar UIDs: the same on every load of the same alliance.
    return uuid.uuid5(UID_NAMESPACE, f"{slug}|{kind}|{number}")


def _bulk(model: type[Model], rows: Iterable[Model], batch_size: int) -> int:
    """Insert rows from an iterable in chunks, so a million never sit in memory."""
    chunk, total = [], 0
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch_size:
            model._default_manager.bulk_create(chunk, batch_size=batch_size)
            total += len(chunk)
            chunk = []
    if chunk:
        model._default_manager.bulk_create(chunk, batch_size=batch_size)
        total += len(chunk)
    return total


def _insert_prepared(
    model: type[Model], fields: list[str], rows: Iterable[tuple], batch_size: int
) -> int:
    """Insert tuples of values already in database form: the readings' fast path.

    `bulk_create` spends ~100–150 µs a row on this machine preparing values field by
    field (most of a million rows' time); here each distinct date and time is
    prepared once by its field. PostgreSQL (psycopg2) takes them by COPY, other
    databases by multi-row INSERTs. Still no `save()`, no signals, no history rows.
    Fields not in `fields` get their default, computed once.
    """
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    given = [meta.get_field(name) for name in fields]
    constant = [
        (f, f.get_db_prep_save(f.get_default(), connection))
        for f in meta.concrete_fields
        if f not in given and not f.primary_key
    ]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [quote(f.column) for f in given] + [quote(f.column) for f, _ in constant]
    tail = tuple(value for _, value in constant)
    with connection.cursor() as wrapper:
        # The driver's own cursor: DEBUG's query log would keep (and on SQLite quote
        # once more) millions of parameters.
        cursor = wrapper.cursor
        if connection.vendor == "postgresql" and hasattr(cursor, "copy_expert"):
            return _copy(cursor, table, columns, rows, tail)
        limit = connection.features.max_query_params or 65535
        per_statement = max(1, min(batch_size, limit // len(columns)))
        # Names from the model, quoted; the values go as parameters.
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        full = head + ", ".join([placeholders] * per_statement)
        total, chunk = 0, []
        for row in rows:
            chunk.extend(row)
            chunk.extend(tail)
            total += 1
            if total % per_statement == 0:
                cursor.execute(full, chunk)
                chunk = []
        if chunk:
            count = len(chunk) // len(columns)
            cursor.execute(head + ", ".join([placeholders] * count), chunk)
    return total


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    text = str(value)
    if isinstance(value, str):
        for char, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
            text = text.replace(char, escaped)
    return text


class _Stream(io.TextIOBase):
    """A file psycopg2's COPY reads while the lines are still being made: the
    database inserts one part while Python generates the next."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self._rest = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        parts, length = [self._rest], len(self._rest)
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if size is not None and 0 <= size <= length:
                break
        text = "".join(parts)
        if size is None or size < 0:
            self._rest = ""
            return text
        self._rest = text[size:]
        return text[:size]


def _copy(cursor, table: str, columns: list[str], rows, tail: tuple) -> int:
    suffix = "".join("\t" + _copy_text(v) for v in tail) + "\n"
    total = 0

    def lines():
        nonlocal total
        for row in rows:
            total += 1
            yield "\t".join(map(_copy_text, row)) + suffix

    cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN", _Stream(lines()), size=1 << 16
    )
    return total


# One alliance
# ------------------------------------------------------------------------------


def build_alliance(
    *,
    index: int,
    organizations: int,
    members_per_organization: int,
    meetings: int,
    workgroups: int,
    measures_per_workgroup: int,
    months: int,
    participants_per_workgroup: int,
    rng: random.Random,
    password_hash: str,
    registrations_per_meeting: int = 10,
    roundtables: int = 4,
    registrations_per_roundtable: int = 25,
    staff: int = 1,
    today: datetime.date | None = None,
    timer: PhaseTimer | None = None,
    batch_size: int = BATCH_SIZE,
    slug: str | None = None,
) -> Alliance:
    """Create alliance `load-<index>` with everything in it, in one transaction.

    A `slug` of another shape (the benchmark's job alliances) keeps the alliance
    and its `<slug>.example` users out of the load data that `--flush` deletes.

    Each organization has `members_per_organization` members (1–5: CEO, head of
    Quality, trustee, physician leader, staff liaison); each workgroup has
    `participants_per_workgroup` organizations reporting every measure monthly
    for `months` months up to the last closed month (a few periods missing).
    `password_hash` comes from `make_password`, once for every user.
    """
    if not 1 <= members_per_organization <= len(POSITIONS):
        raise ValueError(f"members_per_organization must be 1–{len(POSITIONS)}.")
    if workgroups and participants_per_workgroup > organizations:
        raise ValueError("participants_per_workgroup exceeds the organizations.")
    builder = _AllianceBuilder(
        index=index,
        rng=rng,
        password_hash=password_hash,
        today=today,
        timer=timer or PhaseTimer(),
        batch_size=batch_size,
        slug=slug,
    )
    with transaction.atomic():
        alliance = builder.alliance_and_year()
        with scope(alliance=alliance):
            with builder.timer.phase("people"):
                builder.people(organizations, members_per_organization, staff)
            with builder.timer.phase("workgroups and measures"):
                builder.calendar(months)
                builder.workgroups(workgroups, measures_per_workgroup, participants_per_workgroup)
            with builder.timer.phase("readings"):
                builder.readings()
            with builder.timer.phase("aims"):
                builder.aims()
            with builder.timer.phase("meetings"):
                builder.meetings(meetings, registrations_per_meeting)
            with builder.timer.phase("roundtables"):
                builder.roundtables(roundtables, registrations_per_roundtable)
        committing = time.perf_counter()
    # PostgreSQL checks the deferred foreign keys of every new row here.
    builder.timer.seconds["commit"] += time.perf_counter() - committing
    return alliance


@dataclass
class _Profile:
    """One organization's level on one measure: how big, how good, how fast it improves."""

    size: int
    factor: float
    improvement: float


class _AllianceBuilder:
    def __init__(self, *, index, rng, password_hash, today, timer, batch_size, slug=None):
        self.index, self.rng, self.password_hash = index, rng, password_hash
        self.timer, self.batch_size = timer, batch_size
        # "Now" decides what is past (completed meetings, attendance).
        self.now = timezone.now() if today is None else _at(today, 12)
        self.today = today or timezone.localdate()
        self.slug = slug or slug_for(index)
        self.domain = f"{self.slug}.example"

    def _names(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    # The alliance and its current program year --------------------------------

    def alliance_and_year(self) -> Alliance:
        number = f"{self.index:02d}"
        [self.alliance] = Alliance.objects.bulk_create(
            [
                Alliance(
                    name=f"Load Test Alliance {number}",
                    short_name=f"Load {number}",
                    slug=self.slug,
                    description="Generated load data for performance work; not real people.",
                    brand_colour=BRAND_COLOURS[self.index % len(BRAND_COLOURS)],
                    contact_name="Alliance staff",
                    contact_email=f"help@{self.domain}",
                )
            ]
        )
        # Started three months ago: some meetings are past, most upcoming.
        starts_on = _add_months(self.today.replace(day=1), -3)
        ends_on = _add_months(starts_on, 12) - datetime.timedelta(days=1)
        with scope(alliance=self.alliance):
            [self.program_year] = ProgramYear.objects.bulk_create(
                [
                    ProgramYear(
                        alliance=self.alliance,
                        name=f"{starts_on:%B %Y} – {ends_on:%B %Y}",
                        starts_on=starts_on,
                        ends_on=ends_on,
                    )
                ]
            )
        return self.alliance

    # Organizations, users, memberships, speakers ------------------------------

    def people(self, organizations: int, per_organization: int, staff: int) -> None:
        rng, alliance = self.rng, self.alliance
        kinds = [k for k, _, _ in KINDS]
        suffixes = {k: s for k, s, _ in KINDS}
        weights = [w for _, _, w in KINDS]
        orgs = []
        for number in range(1, organizations + 1):
            kind = rng.choices(kinds, weights)[0]
            city, region = rng.choice(CITIES)
            orgs.append(
                Organization(
                    alliance=alliance,
                    # The number keeps names unique within the alliance.
                    name=f"{rng.choice(PLACES)} {suffixes[kind]} {number:04d}",
                    kind=kind,
                    city=city,
                    region=region,
                    website=f"https://org{number:04d}.{self.domain}",
                )
            )
        self.organizations = Organization.objects.bulk_create(orgs, batch_size=self.batch_size)

        # (email, organization or None, role, title) of every member, staff last.
        people = []
        for number, organization in enumerate(self.organizations, start=1):
            for role, prefix, title in POSITIONS[:per_organization]:
                email = f"{prefix}.{number:04d}@{self.domain}"
                people.append((email, organization, role, title))
        for number in range(1, staff + 1):
            people.append((f"staff.{number:02d}@{self.domain}", None, Role.ALLIANCE_STAFF, ""))
        users = User.objects.bulk_create(
            [
                User(
                    email=email,
                    full_name=self._names(),
                    password=self.password_hash,
                    is_staff=role == Role.ALLIANCE_STAFF,
                    date_joined=self.now,
                )
                for email, _, role, _ in people
            ],
            batch_size=self.batch_size,
        )
        # allauth logs in verified addresses only.
        _bulk(
            EmailAddress,
            (EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users),
            self.batch_size,
        )
        group = staff_group_sync() if staff else None
        User.groups.through.objects.bulk_create(
            [
                User.groups.through(user_id=user.pk, group_id=group.pk)
                for user, (_, _, role, _) in zip(users, people, strict=True)
                if role == Role.ALLIANCE_STAFF
            ]
        )
        memberships = Membership.objects.bulk_create(
            [
                Membership(
                    user=user,
                    alliance=alliance,
                    organization=organization,
                    role=role,
                    title=title or "Program Director",
                    is_primary_contact=role == Role.CEO,
                    joined_at=self.now,
                )
                for user, (_, organization, role, title) in zip(users, people, strict=True)
            ],
            batch_size=self.batch_size,
        )
        self.members = [m for m in memberships if m.role != Role.ALLIANCE_STAFF]
        self.by_role = defaultdict(list)
        for membership in self.members:
            self.by_role[membership.role].append(membership)
        self.ceo_of = {m.organization_id: m for m in self.by_role[Role.CEO]}
        # Who enters an organization's data: its head of Quality, or its CEO.
        self.reporter_of = {org_id: m.user_id for org_id, m in self.ceo_of.items()}
        for membership in self.by_role[Role.QUALITY_LEAD]:
            self.reporter_of[membership.organization_id] = membership.user_id

        speakers, taken = [], set()
        for number in range(8):
            name = self._names()
            while name in taken:
                name = self._names()
            taken.add(name)
            faculty = number < 3
            speakers.append(
                Speaker(
                    alliance=alliance,
                    name=name,
                    title="Faculty, Leadership Virtual Roundtables" if faculty else "Guest",
                    affiliation=f"{rng.choice(PLACES)} Institute",
                    bio="Works with health care leaders on improvement.",
                )
            )
        speakers = Speaker.objects.bulk_create(speakers)
        self.faculty, self.guests = speakers[:3], speakers[3:]

    # Workgroups, participation, focus areas, measures -------------------------

    def workgroups(self, count: int, measures_per_workgroup: int, participants: int) -> None:
        rng, alliance = self.rng, self.alliance
        rows = []
        for number in range(count):
            name, description, _, _ = THEMES[number % len(THEMES)]
            if number >= len(THEMES):
                name = f"{name} {number // len(THEMES) + 1}"
            rows.append(
                Workgroup(
                    alliance=alliance,
                    program_year=self.program_year,
                    name=name,
                    slug=f"wg-{number + 1:03d}",
                    description=description,
                )
            )
        self.workgroup_rows = Workgroup.objects.bulk_create(rows)
        org_ids = [o.pk for o in self.organizations]
        self.participants = {
            w.pk: sorted(rng.sample(org_ids, participants)) for w in self.workgroup_rows
        }
        self.measure_rows, self.templates = [], {}
        focus, leads = [], []
        for number, workgroup in enumerate(self.workgroup_rows):
            _, _, focus_titles, preferred = THEMES[number % len(THEMES)]
            for order, title in enumerate(focus_titles, start=1):
                focus.append(FocusArea(workgroup=workgroup, order=order, title=title))
            # Led by the CEO of its first participant.
            lead = next(iter(self.participants[workgroup.pk]), None)
            if lead in self.ceo_of:
                leads.append(
                    Workgroup.leads.through(
                        workgroup_id=workgroup.pk, membership_id=self.ceo_of[lead].pk
                    )
                )
            names = preferred + [n for n in TEMPLATES if n not in preferred]
            for position in range(measures_per_workgroup):
                template = TEMPLATES[names[position % len(names)]]
                name = template.name
                if position >= len(names):
                    name = f"{name} ({position // len(names) + 1})"
                definition = f"{template.numerator_label} in the month"
                if template.denominator_label:
                    definition += f" ÷ {template.denominator_label.lower()}"
                self.measure_rows.append(
                    Measure(
                        alliance=alliance,
                        workgroup=workgroup,
                        name=name,
                        definition=f"{definition}.",
                        first_period=self.first_period,
                        kind=template.kind,
                        direction=template.direction,
                        multiplier=D(template.multiplier),
                        unit=template.unit,
                        numerator_label=template.numerator_label,
                        denominator_label=template.denominator_label,
                        decimals=0 if template.kind == COUNT else (2 if template.base < 2 else 1),
                    )
                )
                self.templates[len(self.measure_rows) - 1] = template
        self.measure_rows = Measure.objects.bulk_create(
            self.measure_rows, batch_size=self.batch_size
        )
        _bulk(FocusArea, focus, self.batch_size)
        Workgroup.leads.through.objects.bulk_create(leads)
        # Everyone joined when the data starts: every slot is expected.
        _bulk(
            Participation,
            (
                Participation(workgroup=w, organization_id=org_id, joined_on=self.first_period)
                for w in self.workgroup_rows
                for org_id in self.participants[w.pk]
            ),
            self.batch_size,
        )

    # Readings ------------------------------------------------------------------

    def calendar(self, months: int) -> None:
        """The months of data: up to the last closed month; the first ones are the baseline."""
        last = last_closed_period(self.today, Measure.Period.MONTHLY)
        self.periods = [_add_months(last, n - months + 1) for n in range(months)]
        self.first_period = self.periods[0] if self.periods else last
        self.baseline_months = min(6, max(1, months // 3))
        # Entered on the 8th of the next month (never in the future).
        self.entered_at = [
            min(_at(_add_months(p, 1) + datetime.timedelta(days=7), 14), self.now)
            for p in self.periods
        ]

    def readings(self) -> None:
        """Monthly readings: a gentle improvement after the baseline, noise, and a few
        missing periods."""
        self.baseline_sums = {}
        _insert_prepared(Reading, READING_FIELDS, self._reading_rows(), self.batch_size)

    def _reading_rows(self):
        """Tuples of READING_FIELDS, ready for the database."""
        rng, alliance_id = self.rng, self.alliance.pk
        connection = connections[router.db_for_write(Reading)]
        prepare_day = Reading._meta.get_field("period_start").get_db_prep_save
        prepare_time = Reading._meta.get_field("entered_at").get_db_prep_save
        periods = [prepare_day(p, connection) for p in self.periods]
        entered = [prepare_time(t, connection) for t in self.entered_at]
        months, baseline = len(self.periods), self.baseline_months
        ramp = max(1, months - baseline)
        by_workgroup = defaultdict(list)
        for position, measure in enumerate(self.measure_rows):
            by_workgroup[measure.workgroup_id].append((measure, self.templates[position]))
        for workgroup in self.workgroup_rows:
            participants = self.participants[workgroup.pk]
            # A few organizations have not reported the last month yet.
            late = {org for org in participants if rng.random() < 0.05}
            for position, (measure, template) in enumerate(by_workgroup[workgroup.pk]):
                is_aim = position == 0 and template.kind != COUNT
                sums = [0, 0]
                for org_id in participants:
                    profile = _Profile(
                        size=rng.randint(*template.size),
                        factor=rng.uniform(0.6, 1.5),
                        improvement=rng.uniform(0.05, 0.35),
                    )
                    reporter = self.reporter_of[org_id]
                    for number, period in enumerate(periods):
                        progress = min(1.0, max(0.0, (number - baseline + 1) / ramp))
                        numerator, denominator = _values(template, profile, progress, rng)
                        if rng.random() < 0.012 or (number == months - 1 and org_id in late):
                            continue
                        if is_aim and number < baseline:
                            sums[0] += numerator
                            sums[1] += denominator
                        yield (
                            alliance_id,
                            measure.pk,
                            org_id,
                            period,
                            D(numerator),
                            D(denominator) if template.denominator_label else None,
                            reporter,
                            entered[number],
                            reporter,
                            entered[number],
                        )
                if is_aim:
                    self.baseline_sums[measure.pk] = (measure, template, *sums)

    def aims(self) -> None:
        if not self.periods:
            return
        first = self.periods[0]
        baseline_end = _add_months(first, self.baseline_months - 1)
        starts_on = _add_months(first, self.baseline_months)
        rows = []
        for measure, template, numerator, denominator in self.baseline_sums.values():
            if not denominator:
                continue
            scale = 100 if template.kind == PERCENTAGE else template.multiplier
            baseline = (D(numerator) / D(denominator) * scale).quantize(D("0.01"))
            if template.direction == LOWER:
                kind, target = Aim.TargetKind.RELATIVE, D(-25)
                statement = f"{measure.name}: reduce the pooled value by 25%."
            else:
                kind, target = Aim.TargetKind.ABSOLUTE, min(D(100), baseline + 15)
                statement = f"{measure.name}: raise the pooled value to {target:.0f}%."
            rows.append(
                Aim(
                    alliance=self.alliance,
                    measure=measure,
                    statement=statement,
                    baseline_start=first,
                    baseline_end=baseline_end,
                    baseline_value=baseline,
                    target_kind=kind,
                    target_value=target,
                    starts_on=starts_on,
                    due_on=self.program_year.ends_on,
                )
            )
        Aim.objects.bulk_create(rows, batch_size=self.batch_size)

    # Meetings, agendas, guests, registrations --------------------------------

    def meetings(self, count: int, per_meeting: int) -> None:
        rng, alliance, year = self.rng, self.alliance, self.program_year
        span = (year.ends_on - year.starts_on).days
        ceos = self.by_role[Role.CEO]
        audiences = {
            Audience.ALL_MEMBERS: self.members,
            Audience.CEOS: ceos,
            Audience.CEOS_AND_QUALITY: sorted(
                ceos + self.by_role[Role.QUALITY_LEAD], key=lambda m: m.pk
            ),
        }
        rows, agendas = [], []
        for number in range(count):
            day = year.starts_on + datetime.timedelta(days=int((number + 0.5) * span / count))
            start = _at(day, 15)
            topic = MEETING_TOPICS[number % len(MEETING_TOPICS)]
            fields = {
                "kind": Meeting.Kind.ALLIANCE_MEETING,
                "format": Meeting.Format.VIRTUAL,
                "audience": Audience.ALL_MEMBERS,
            }
            agenda, hours = MEETING_AGENDA, 2
            slot = number % 6
            if slot in (1, 3, 5) and self.workgroup_rows:
                workgroup = self.workgroup_rows[number % len(self.workgroup_rows)]
                fields.update(kind=Meeting.Kind.WORKGROUP_CALL, workgroup=workgroup)
                title, agenda, hours = f"{workgroup.name} call: {topic}", CALL_AGENDA, 1
            elif slot == 2 and self.organizations:
                host = self.organizations[number % len(self.organizations)]
                fields.update(
                    kind=Meeting.Kind.COP_SESSION,
                    format=Meeting.Format.IN_PERSON,
                    audience=Audience.CEOS,
                    substitutes_allowed=False,
                    host_organization=host,
                    venue=f"{host.name}, board room",
                    address=f"1 Main Street, {host.city}, {host.region}",
                    discussion_topic=topic,
                    dinner_at=start + datetime.timedelta(hours=8),
                    dinner_place=f"{rng.choice(PLACES)} Grill",
                )
                title, agenda, hours = f"Community of practice: {topic}", STANDARD_AGENDA, 6
            elif slot == 4:
                fields.update(audience=Audience.CEOS_AND_QUALITY)
                title = f"CEOs and heads of Quality: {topic}"
            else:
                fields.update(format=Meeting.Format.HYBRID, venue="Harbor Conference Center")
                title = f"Alliance meeting: {topic}"
            past = start < self.now
            rows.append(
                Meeting(
                    alliance=alliance,
                    program_year=year,
                    title=title,
                    status=Meeting.Status.COMPLETED if past else Meeting.Status.SCHEDULED,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(hours=hours),
                    time_zone=alliance.time_zone,
                    description=f"{title}. Generated load data.",
                    uid=_uid(self.slug, "meeting", number),
                    join_url=""
                    if fields["format"] == Meeting.Format.IN_PERSON
                    else f"https://meet.example.org/{self.slug}/{number + 1}",
                    **fields,
                )
            )
            agendas.append(agenda)
        meetings = Meeting.objects.bulk_create(rows, batch_size=self.batch_size)

        items, guests, registrations = [], [], []
        for number, (meeting, agenda) in enumerate(zip(meetings, agendas, strict=True)):
            at = meeting.starts_at
            for order, (minutes, kind, title) in enumerate(agenda, start=1):
                items.append(
                    AgendaItem(
                        meeting=meeting,
                        order=order,
                        starts_at=at,
                        duration_minutes=minutes,
                        title=title,
                        kind=kind,
                        # Heads of Quality join only the guest's part of a CEO session.
                        audience=Audience.CEOS_AND_QUALITY
                        if kind == AgendaItem.Kind.GUEST_PRESENTATION
                        else "",
                    )
                )
                at += datetime.timedelta(minutes=minutes)
            if meeting.kind == Meeting.Kind.COP_SESSION and self.guests:
                guests.append(
                    Guest(
                        meeting=meeting,
                        speaker=self.guests[number % len(self.guests)],
                        joins_dinner=True,
                    )
                )
            eligible = audiences[meeting.audience]
            registrations.extend(self._registrations(meeting, eligible, per_meeting, number))
        _bulk(AgendaItem, items, self.batch_size)
        Guest.objects.bulk_create(guests, batch_size=self.batch_size)
        _bulk(Registration, registrations, self.batch_size)

    def _registrations(self, meeting, eligible, count, number):
        """A slice of the eligible members, moving along with each meeting."""
        rng = self.rng
        count = min(count, len(eligible))
        past = meeting.starts_at < self.now
        offset = number * count
        for step in range(count):
            membership = eligible[(offset + step) % len(eligible)]
            draw = rng.random()
            if draw < 0.12:
                response = Registration.Response.NOT_ATTENDING
            elif meeting.format == Meeting.Format.IN_PERSON or (
                meeting.format == Meeting.Format.HYBRID and draw < 0.6
            ):
                response = Registration.Response.IN_PERSON
            else:
                response = Registration.Response.VIRTUAL
            attending = response != Registration.Response.NOT_ATTENDING
            came = rng.random() < 0.85
            responded = meeting.starts_at - datetime.timedelta(days=rng.randint(1, 30))
            yield Registration(
                alliance=self.alliance,
                meeting=meeting,
                membership=membership,
                response=response,
                attended=came if past and attending else None,
                responded_at=min(responded, self.now),
            )

    # Roundtables -------------------------------------------------------------

    def roundtables(self, count: int, per_roundtable: int) -> None:
        rng, alliance, year = self.rng, self.alliance, self.program_year
        span = (year.ends_on - year.starts_on).days
        rows = []
        for number in range(count):
            day = year.starts_on + datetime.timedelta(days=int((number + 0.5) * span / count))
            start = _at(day, 17)
            topic = ROUNDTABLE_TOPICS[number % len(ROUNDTABLE_TOPICS)]
            past = start + datetime.timedelta(minutes=90) < self.now
            rows.append(
                Roundtable(
                    alliance=alliance,
                    program_year=year,
                    title=f"Leadership Virtual Roundtable: {topic}",
                    topic=topic,
                    status=Roundtable.Status.COMPLETED if past else Roundtable.Status.SCHEDULED,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(minutes=90),
                    time_zone=alliance.time_zone,
                    uid=_uid(self.slug, "roundtable", number),
                    join_url=f"https://webinar.example.org/{self.slug}/{number + 1}",
                    passcode=f"rt{rng.randint(100000, 999999)}",
                    recording_url=f"https://webinar.example.org/{self.slug}/{number + 1}/recording"
                    if past
                    else "",
                    summary="Members compared what worked and what they would stop doing."
                    if past
                    else "",
                )
            )
        roundtables = Roundtable.objects.bulk_create(rows)
        Roundtable.facilitators.through.objects.bulk_create(
            [
                Roundtable.facilitators.through(roundtable_id=r.pk, speaker_id=s.pk)
                for r in roundtables
                for s in self.faculty
            ]
        )
        registrations = []
        count = min(per_roundtable, len(self.members))
        for number, roundtable in enumerate(roundtables):
            past = roundtable.status == Roundtable.Status.COMPLETED
            for step in range(count):
                membership = self.members[(number * count + step) % len(self.members)]
                came = rng.random() < 0.8  # drawn always: the sequence ignores the date
                registrations.append(
                    RoundtableRegistration(
                        alliance=alliance,
                        roundtable=roundtable,
                        membership=membership,
                        status=RoundtableRegistration.Status.REGISTERED,
                        requested_at=min(
                            roundtable.starts_at - datetime.timedelta(days=rng.randint(1, 40)),
                            self.now,
                        ),
                        attended=came if past else None,
                    )
                )
        _bulk(RoundtableRegistration, registrations, self.batch_size)


def _values(template: MeasureTemplate, profile: _Profile, progress: float, rng) -> tuple:
    """(numerator, denominator) of one month; whole numbers, as people report them."""
    base = template.base * profile.factor
    if template.direction == HIGHER:  # a percentage climbing toward 98%
        base = min(base, 95.0)
        level = base + (98.0 - base) * profile.improvement * 2 * progress
    else:
        level = base * (1 - profile.improvement * progress)
    level *= rng.uniform(0.85, 1.15)
    if template.kind == COUNT:
        return _round(level, rng), 0
    denominator = max(1, round(profile.size * rng.uniform(0.9, 1.1)))
    if template.kind == PERCENTAGE:
        return min(denominator, _round(min(level, 100.0) * denominator / 100, rng)), denominator
    return _round(level * denominator / template.multiplier, rng), denominator


def _round(value: float, rng) -> int:
    """Rounded up with probability equal to the fraction: small counts stay realistic."""
    return int(value + rng.random())


# All alliances of a scale
# ------------------------------------------------------------------------------


def load_alliances() -> list[Alliance]:
    return list(Alliance.objects.filter(slug__regex=SLUG_REGEX).order_by("slug"))


def check_no_load_data() -> None:
    alliances = load_alliances()
    users = User.objects.filter(email__regex=EMAIL_REGEX).count()
    if alliances or users:
        names = ", ".join(a.slug for a in alliances) or "none"
        raise LoadDataPresent(
            f"The database already holds load data (alliances: {names}; {users} users). "
            "Use a fresh database, or pass --flush to delete the previous load data first."
        )


def generate(
    *,
    scale: Scale,
    seed: int = 1,
    password: str,
    flush: bool = False,
    timer: PhaseTimer | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Alliance]:
    """Create `scale.alliances` load alliances, each in its own transaction.

    Refuses (LoadDataPresent) when load data exists, unless `flush`. A failure
    leaves the alliances committed before it: run again with `flush`.
    """
    timer = timer or PhaseTimer()
    log = log or (lambda message: None)
    # The flush's time includes its commit (PostgreSQL checks foreign keys then).
    with timer.phase("flush" if flush else "check"), transaction.atomic():
        if flush:
            deleted = flush_load_data()
            if deleted:
                log(f"Deleted {sum(deleted.values()):,} rows of previous load data.")
        check_no_load_data()
    with timer.phase("password hash"):
        password_hash = make_password(password)
    alliances = []
    for position in range(scale.alliances):
        index = position + 1
        started = time.perf_counter()
        alliances.append(
            build_alliance(
                index=index,
                organizations=split(scale.organizations, scale.alliances, position),
                members_per_organization=scale.members_per_organization,
                meetings=split(scale.meetings, scale.alliances, position),
                workgroups=split(scale.workgroups, scale.alliances, position),
                measures_per_workgroup=scale.measures_per_workgroup,
                months=scale.months,
                participants_per_workgroup=scale.participants_per_workgroup,
                registrations_per_meeting=scale.registrations_per_meeting,
                roundtables=scale.roundtables_per_alliance,
                registrations_per_roundtable=scale.registrations_per_roundtable,
                # Per alliance: one alliance's rows do not depend on the others'.
                rng=random.Random(f"{seed}:{index}"),  # noqa: S311  (not secrets)
                password_hash=password_hash,
                timer=timer,
            )
        )
        log(f"{slug_for(index)}: {time.perf_counter() - started:.1f} s")
    return alliances


COUNTED = [
    ("alliances", Alliance, "pk"),
    ("program years", ProgramYear, "alliance"),
    ("organizations", Organization, "alliance"),
    ("memberships", Membership, "alliance"),
    ("  of them CEOs", Membership, "alliance"),
    ("  of them alliance staff", Membership, "alliance"),
    ("speakers", Speaker, "alliance"),
    ("meetings", Meeting, "alliance"),
    ("agenda items", AgendaItem, "meeting__alliance"),
    ("meeting registrations", Registration, "alliance"),
    ("roundtables", Roundtable, "alliance"),
    ("roundtable registrations", RoundtableRegistration, "alliance"),
    ("workgroups", Workgroup, "alliance"),
    ("participations", Participation, "workgroup__alliance"),
    ("focus areas", FocusArea, "workgroup__alliance"),
    ("measures", Measure, "alliance"),
    ("aims", Aim, "alliance"),
    ("readings", Reading, "alliance"),
]


def load_data_counts() -> dict[str, int]:
    """Rows of every kind in the load alliances (users: by their load addresses)."""
    alliances = load_alliances()
    counts = {"users": User.objects.filter(email__regex=EMAIL_REGEX).count()}
    if not alliances:
        return counts | {label: 0 for label, _, _ in COUNTED}
    with scope(alliance=alliances):
        for label, model, path in COUNTED:
            rows = model._default_manager.filter(**{f"{path}__in": [a.pk for a in alliances]})
            if "CEOs" in label:
                rows = rows.filter(role=Role.CEO)
            elif "staff" in label:
                rows = rows.filter(role=Role.ALLIANCE_STAFF)
            counts[label] = rows.count()
    return counts


# Flush
# ------------------------------------------------------------------------------


def _alliance_tables() -> list[tuple[type[Model], str]]:
    """Every table whose rows belong to an alliance (history and many-to-many tables
    included) with the lookup to its alliance, referencing tables first.

    Found from the foreign keys, so a model added later is flushed too.
    """
    candidates = [m for m in apps.get_models(include_auto_created=True) if m is not Alliance]
    links = {
        m: [f for f in m._meta.concrete_fields if f.many_to_one or f.one_to_one] for m in candidates
    }
    paths: dict[type[Model], str] = {}
    changed = True
    while changed:
        changed = False
        for model in candidates:
            if model in paths:
                continue
            direct = next((f for f in links[model] if f.related_model is Alliance), None)
            via = next((f for f in links[model] if f.related_model in paths), None)
            if direct is not None:
                paths[model] = direct.name
            elif via is not None:
                paths[model] = f"{via.name}__{paths[via.related_model]}"
            else:
                continue
            changed = True
    # A table is emptied before the tables it references (its lookup may join them).
    remaining, order = set(paths), []
    while remaining:
        referenced = {
            f.related_model
            for m in remaining
            for f in links[m]
            if f.related_model in remaining and f.related_model is not m
        }
        ready = sorted((m for m in remaining if m not in referenced), key=_label)
        if not ready:  # a cycle: take one; foreign keys are checked at commit
            ready = [min(remaining, key=_label)]
        order.extend(ready)
        remaining.difference_update(ready)
    return [(m, paths[m]) for m in order]


def _label(model: type[Model]) -> str:
    return model._meta.label


def flush_load_data() -> dict[str, int]:
    """Delete every load alliance, its rows and its users; nothing of other alliances.

    Raw deletes: no signals, so no history rows for the deletion and no fetching
    of a million readings first.
    """
    deleted: dict[str, int] = {}
    alliances = load_alliances()
    with transaction.atomic():
        if alliances:
            with scope(alliance=alliances):
                for model, path in _alliance_tables():
                    rows = model._default_manager.filter(**{f"{path}__in": alliances})
                    count = rows._raw_delete(rows.db)
                    if count:
                        deleted[_label(model)] = count
            rows = Alliance.objects.filter(pk__in=[a.pk for a in alliances])
            deleted["alliance.Alliance"] = rows._raw_delete(rows.db)
        # Their users (unless someone made one a member elsewhere), with the rows
        # that go with a user: email addresses, group links.
        users = User.objects.filter(email__regex=EMAIL_REGEX, memberships__isnull=True)
        _, by_model = users.delete()
        for label, count in by_model.items():
            deleted[label] = deleted.get(label, 0) + count
    return deleted
