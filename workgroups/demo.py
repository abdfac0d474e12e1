"""Demo workgroups, readings, goals and commitments (called by `load_demo`).

From the public descriptions in ../shared/seeds/: the national alliance's three
workgroups and their aims, with 21 months of plausible, fictional readings (a
few periods missing, and one clear shift after the work started); the regional
program's audacious goals and required commitments for its five organizations.
Values come from a seeded generator, so every load makes the same data.
"""

import datetime
import random
from decimal import Decimal

from django.db.models import Sum
from django_scopes import scope

from alliance.demo import NATIONAL, REGIONAL
from alliance.models import ProgramYear
from members.models import Membership, Organization, Role

from .models import (
    Aim,
    Commitment,
    FocusArea,
    FocusProposal,
    Goal,
    GoalSet,
    Measure,
    Participation,
    Reading,
    Workgroup,
)
from .periods import periods_between

D = Decimal
OSHA = D(200000)
FIRST_MONTH, LAST_MONTH = datetime.date(2020, 1, 1), datetime.date(2021, 9, 1)
WORK_STARTS = datetime.date(2020, 10, 1)
SHIFT_FROM = datetime.date(2021, 3, 1)  # the improvement shows from here on

WORKGROUPS = [
    {
        "slug": "workforce-safety",
        "name": "Workforce Safety",
        "description": "The Workforce Safety Workgroup will reduce our aggregate OSHA recordable "
        "injury and DART rates by 25%.",
        "organizations": 6,
        "focus": [],
        "measures": [
            {
                "name": "OSHA recordable injury rate",
                "kind": "rate",
                "base": 5.2,
                "definition": "OSHA recordable injuries × 200,000 ÷ hours worked.",
                "numerator_label": "Recordable injuries",
                "aim": True,
            },
            {
                "name": "DART rate",
                "kind": "rate",
                "base": 2.6,
                "definition": "Days away, restricted or transferred cases × 200,000 ÷ hours "
                "worked.",
                "numerator_label": "DART cases",
                "aim": True,
            },
        ],
    },
    {
        "slug": "opioids-sud",
        "name": "Opioids and Substance Use Disorder",
        "description": "We will work together to newly inform the field by identifying high "
        "leverage strategies for a range of organizations at different levels "
        "of maturity.",
        "organizations": 4,
        "focus": [
            "Increasing access to Medication Assisted Treatment.",
            "Implementing safe and appropriate opioid prescribing practices in at least "
            "one setting.",
        ],
        "measures": [
            {
                "name": "Patients with opioid use disorder offered MAT",
                "kind": "percentage",
                "base": 38.0,
                "direction": "higher",
                "definition": "Patients with a diagnosis of opioid use disorder offered medication "
                "assisted treatment ÷ all such patients.",
                "numerator_label": "Patients offered MAT",
                "denominator_label": "Patients with opioid use disorder",
            },
        ],
    },
    {
        "slug": "office-visit-dinosaur",
        "name": "The Office Visit is a Dinosaur",
        "description": "By September 30, 2020, 100% of us will have made progress towards "
        "(radically) redesigning systems that are primarily driven by what works "
        "optimally for the patient – time, place, and mechanisms.",
        "organizations": 5,
        "focus": [],
        "measures": [
            {
                "name": "Progress on care redesigned around the patient",
                "kind": "milestone",
                "period": "quarterly",
                "direction": "higher",
                "aim": "milestone",
                "definition": "Each organization reports whether it made progress this quarter "
                "toward redesigning care around the patient's time, place and means.",
            },
        ],
    },
]

GOALS = [  # (statement, measure, kind, baseline, limit)
    (
        "Zero central line–associated bloodstream infections in every ICU",
        "CLABSI per 1,000 line days",
        "rate",
        2.4,
        0,
    ),
    ("Zero ventilator-associated pneumonia", "VAP per 1,000 ventilator days", "rate", 3.1, 0),
    (
        "Every heart failure patient receives all evidence-based care",
        "Heart failure all-or-none bundle",
        "percentage",
        71,
        100,
    ),
    ("Zero falls with injury", "Falls with injury", "count", 6, 0),
    (
        "Zero hospital-acquired pressure ulcers, stage 3 and above",
        "Hospital-acquired pressure ulcers (stage 3+)",
        "count",
        4,
        0,
    ),
]


def load(alliances):
    _national(alliances[NATIONAL])
    _regional(alliances[REGIONAL])


def _reporter(organization):
    """The organization's head of Quality, or its CEO: who enters its data."""
    membership = (
        Membership.objects.filter(organization=organization, role=Role.QUALITY_LEAD).first()
        or Membership.objects.filter(organization=organization).first()
    )
    return membership.user


def _national(alliance):
    with scope(alliance=alliance):
        program_year = ProgramYear.objects.get(alliance=alliance, name="2020–2021")
        organizations = list(Organization.objects.filter(alliance=alliance).order_by("name"))
        rng = random.Random(2020)  # noqa: S311  (reproducible demo values, not secrets)
        for spec in WORKGROUPS:
            workgroup, _ = Workgroup.objects.update_or_create(
                alliance=alliance,
                slug=spec["slug"],
                defaults={
                    "name": spec["name"],
                    "description": spec["description"],
                    "program_year": program_year,
                },
            )
            members = organizations[: spec["organizations"]]
            for organization in members:
                Participation.objects.get_or_create(
                    workgroup=workgroup,
                    organization=organization,
                    defaults={"joined_on": datetime.date(2019, 10, 1)},
                )
            for order, title in enumerate(spec["focus"], start=1):
                FocusArea.objects.update_or_create(
                    workgroup=workgroup, order=order, defaults={"title": title}
                )
            for measure_spec in spec["measures"]:
                measure = _measure(alliance, workgroup, measure_spec)
                _readings(measure, members, measure_spec, rng)
                if measure_spec.get("aim"):
                    _aim(measure, spec, measure_spec)
        workgroup = Workgroup.objects.get(alliance=alliance, slug="workforce-safety")
        ceo = Membership.objects.filter(alliance=alliance, role=Role.CEO).order_by("pk").first()
        workgroup.leads.add(ceo)
        proposer = Membership.objects.filter(alliance=alliance, role=Role.CEO).order_by("-pk")
        proposal, _ = FocusProposal.objects.get_or_create(
            alliance=alliance,
            title="Health equity in our own workforce",
            defaults={
                "proposed_by": proposer.first(),
                "description": (
                    "Measure and close gaps in injury rates, pay and advancement between groups "
                    "of our own employees."
                ),
            },
        )
        proposal.endorsed_by.add(*proposer[:3])


def _measure(alliance, workgroup, spec) -> Measure:
    quarterly = spec.get("period") == "quarterly"
    measure, _ = Measure.objects.update_or_create(
        alliance=alliance,
        workgroup=workgroup,
        name=spec["name"],
        defaults={
            "definition": spec["definition"],
            "kind": spec["kind"],
            "period": "quarterly" if quarterly else "monthly",
            "direction": spec.get("direction", "lower"),
            "multiplier": OSHA if spec["kind"] == "rate" else D(1),
            "unit": {"rate": "per 200,000 hours", "percentage": "%"}.get(spec["kind"], ""),
            "numerator_label": spec.get("numerator_label", "Numerator"),
            "denominator_label": spec.get(
                "denominator_label", "Hours worked" if spec["kind"] == "rate" else ""
            ),
            "decimals": 1 if spec["kind"] != "milestone" else 0,
            "first_period": datetime.date(2019, 10, 1) if quarterly else FIRST_MONTH,
        },
    )
    return measure


def _readings(measure, organizations, spec, rng) -> None:
    """Plausible values per organization and period, a few missing, one clear shift."""
    existing = set(
        Reading.objects.filter(measure=measure).values_list("organization_id", "period_start")
    )
    periods = periods_between(measure.first_period, LAST_MONTH, measure.period)
    new = []
    for index, organization in enumerate(organizations):
        reporter = _reporter(organization)
        size = D(rng.randint(40, 300) * 1000)  # hours worked a month
        for number, period in enumerate(periods):
            # Draw every value, even for rows that exist: the sequence, and so a
            # reload, must not depend on what is already there.
            value = _value(spec, rng, index, number, period)
            fields = (
                {"achieved": value}
                if spec["kind"] == "milestone"
                else _fraction(spec, value, size, rng)
            )
            if _skipped(index, number, rng) or (organization.pk, period) in existing:
                continue
            new.append(_reading(measure, organization, reporter, period, fields))
    Reading.objects.bulk_create(new)


def _reading(measure, organization, reporter, period, fields) -> Reading:
    return Reading(
        alliance=measure.alliance,
        measure=measure,
        organization=organization,
        period_start=period,
        entered_by=reporter,
        updated_by=reporter,
        **fields,
    )


def _value(spec, rng, index, number, period):
    if spec["kind"] == "milestone":
        # Everyone reports progress by the aim's due date (Q3 2020); some earlier.
        return period >= datetime.date(2020, 7, 1) or rng.random() < 0.25 + 0.1 * number
    improved = period >= SHIFT_FROM
    base = spec["base"] * (1 + 0.12 * (index - 2) / 3)
    if spec.get("direction") == "higher":
        return base * (1.35 if improved else 1.0) * rng.uniform(0.9, 1.1)
    return base * (0.7 if improved else 1.0) * rng.uniform(0.75, 1.25)


def _skipped(index, number, rng) -> bool:
    # Two organizations miss a period now and then (never the first months), and
    # one has not reported the last month yet: missing data shows as missing.
    chance = rng.random()
    return (number > 3 and index in (2, 4) and chance < 0.12) or (index == 5 and number == 20)


def _fraction(spec, value, size, rng) -> dict:
    if spec["kind"] == "rate":
        hours = (size * D(rng.uniform(0.9, 1.1))).quantize(D(1))  # months differ
        cases = round(value * float(hours) / float(OSHA))
        return {"numerator": D(cases), "denominator": hours}
    patients = D(rng.randint(30, 120))
    return {
        "numerator": min(patients, D(round(float(patients) * value / 100))),
        "denominator": patients,
    }


def _aim(measure, workgroup_spec, spec) -> None:
    if Aim.objects.filter(measure=measure).exists():
        return  # frozen: a reload never moves a baseline
    if spec["aim"] == "milestone":
        Aim.objects.create(
            alliance=measure.alliance,
            measure=measure,
            statement=workgroup_spec["description"],
            baseline_start=datetime.date(2019, 10, 1),
            baseline_end=datetime.date(2019, 10, 1),
            baseline_value=D(0),
            target_kind=Aim.TargetKind.ABSOLUTE,
            target_value=D(100),
            starts_on=datetime.date(2019, 10, 1),
            due_on=datetime.date(2020, 9, 30),
        )
        return
    baseline_end = datetime.date(2020, 9, 1)
    sums = Reading.objects.filter(
        measure=measure, period_start__gte=FIRST_MONTH, period_start__lte=baseline_end
    ).aggregate(n=Sum("numerator"), d=Sum("denominator"))
    Aim.objects.create(
        alliance=measure.alliance,
        measure=measure,
        statement=f"Reduce our aggregate {measure.name} by 25%.",
        baseline_start=FIRST_MONTH,
        baseline_end=baseline_end,
        baseline_value=(sums["n"] / sums["d"] * measure.multiplier).quantize(D("0.01")),
        target_kind=Aim.TargetKind.RELATIVE,
        target_value=D(-25),
        starts_on=WORK_STARTS,
        due_on=datetime.date(2021, 9, 30),
    )


def _regional(alliance):
    with scope(alliance=alliance):
        program_year = ProgramYear.objects.get(alliance=alliance)
        rng = random.Random(2007)  # noqa: S311  (reproducible demo values, not secrets)
        months = periods_between(program_year.starts_on, program_year.ends_on, "monthly")
        for index, organization in enumerate(
            Organization.objects.filter(alliance=alliance).order_by("name")
        ):
            goal_set, _ = GoalSet.objects.get_or_create(
                alliance=alliance, organization=organization, program_year=program_year
            )
            chosen = GOALS[index % 2 : index % 2 + 3 + index % 3]  # 3 to 5 goals each
            reporter = _reporter(organization)
            for order, (statement, name, kind, baseline, limit) in enumerate(chosen, start=1):
                measure, _ = Measure.objects.update_or_create(
                    alliance=alliance,
                    workgroup=None,
                    name=f"{name} — {organization.name}",
                    defaults={
                        "kind": kind,
                        "period": "monthly",
                        "first_period": months[0],
                        "direction": "higher" if limit > baseline else "lower",
                        "multiplier": D(1000) if kind == "rate" else D(1),
                        "unit": {"rate": "per 1,000 days", "percentage": "%"}.get(kind, ""),
                        "numerator_label": "Events" if kind != "percentage" else "Met",
                        "denominator_label": {"rate": "Days", "percentage": "Patients"}.get(
                            kind, ""
                        ),
                    },
                )
                Goal.objects.update_or_create(
                    alliance=alliance,
                    goal_set=goal_set,
                    order=order,
                    defaults={
                        "statement": statement,
                        "measure": measure,
                        "baseline_value": D(baseline),
                        "theoretical_limit": D(limit),
                        "due_on": program_year.ends_on,
                    },
                )
                _goal_readings(measure, organization, reporter, months, baseline, limit, rng)
            if goal_set.submitted_at is None:
                goal_set.submitted_at = datetime.datetime(2007, 6, 1, tzinfo=datetime.UTC)
                goal_set.submitted_by = reporter
                goal_set.save()
            for number, kind in enumerate(Commitment.Kind.values):
                Commitment.objects.get_or_create(
                    alliance=alliance,
                    organization=organization,
                    kind=kind,
                    defaults={
                        "status": Commitment.Status.values[(index + number) % 3],
                        "evidence": "Reviewed at the quarterly board quality meeting.",
                    },
                )


def _goal_readings(measure, organization, reporter, months, baseline, limit, rng) -> None:
    existing = set(Reading.objects.filter(measure=measure).values_list("period_start", flat=True))
    new = []
    for number, period in enumerate(months):
        share = min(1.0, number / (len(months) * 1.3))  # most of the way, not all
        value = baseline + (limit - baseline) * share * rng.uniform(0.7, 1.1)
        if measure.kind == "count":
            fields = {"numerator": D(max(0, round(value * rng.uniform(0.6, 1.3))))}
        elif measure.kind == "rate":
            days = D(rng.randint(600, 1500))
            fields = {
                "numerator": D(max(0, round(value * float(days) / 1000))),
                "denominator": days,
            }
        else:
            patients = D(rng.randint(40, 90))
            fields = {
                "numerator": min(patients, D(round(float(patients) * value / 100))),
                "denominator": patients,
            }
        if period in existing:  # after the draws: a reload makes the same values
            continue
        new.append(_reading(measure, organization, reporter, period, fields))
    Reading.objects.bulk_create(new)
