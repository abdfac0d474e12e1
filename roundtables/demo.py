"""Demo roundtables (called by `load_demo`): the national alliance's quarterly
Leadership Virtual Roundtables of 2020–2021, facilitated by its three named
faculty (../shared/seeds/). Topics, summaries and questions are illustrative.

All four are in the past: the first three have a recording and a summary, the
last a recording still to come. Registrations, attendance, questions and votes
come from a seeded generator. A roundtable is found again by its title, so a
reload creates nothing new.
"""

import datetime
import random
import uuid

from django.core.files.base import ContentFile
from django_scopes import scope

from alliance.demo import NATIONAL, simple_pdf
from alliance.models import ProgramYear
from members.models import Membership, Role, Speaker

from . import services
from .models import Question, QuestionVote, Roundtable, RoundtableRegistration

UID_NAMESPACE = uuid.UUID("0b7e3f2c-9a55-4d61-8e2f-5c1a7d9e4b20")

# (quarter, topic, recorded, summary)
QUARTERS = [
    (
        1,
        "Leading through the second wave of COVID-19",
        True,
        "Members compared how they kept elective care going while protecting staff, "
        "and how they talk with their boards and communities about the months ahead.",
    ),
    (
        2,
        "Vaccinating the workforce and the community",
        True,
        "Faculty and members discussed vaccine confidence among staff, equitable "
        "distribution in the community, and what health systems owe their neighbours.",
    ),
    (
        3,
        "Burnout, moral injury and the joy of work",
        True,
        "A frank conversation about what leaders can stop doing, what they should start, "
        "and the measures members use to see whether it is working.",
    ),
    (
        4,
        "What the pandemic taught us about care redesign",
        False,
        "",
    ),
]

QUESTIONS = [
    "Which measures told you earliest that staff were at their limit?",
    "How did you involve patients and families in decisions about visiting?",
    "What would you keep from the pandemic's virtual care when it is over?",
    "How do you keep the board focused on safety when finances are this tight?",
    "What did you stop doing, and how did you decide?",
]


def load(alliances):
    alliance = alliances[NATIONAL]
    with scope(alliance=alliance):
        year = ProgramYear.objects.get(alliance=alliance, name="2020–2021")
        faculty = list(Speaker.objects.filter(alliance=alliance, title__contains="Roundtable"))
        if not Roundtable.objects.filter(alliance=alliance, program_year=year).exists():
            created = services.roundtables_create_quarterly(
                program_year=year, facilitators=faculty, capacity=60
            )
            for roundtable in created:
                roundtable.uid = uuid.uuid5(UID_NAMESPACE, roundtable.title)
                roundtable.save(update_fields=["uid"])
        members = list(
            Membership.objects.filter(
                alliance=alliance,
                is_active=True,
                role__in=[Role.CEO, Role.QUALITY_LEAD, Role.PHYSICIAN_LEADER],
            )
            .select_related("user")
            .order_by("pk")
        )
        rng = random.Random(2020)  # noqa: S311  (reproducible demo values, not secrets)
        roundtables = Roundtable.objects.filter(alliance=alliance, program_year=year)
        for roundtable, (number, topic, recorded, summary) in zip(
            roundtables.order_by("starts_at"), QUARTERS, strict=True
        ):
            _fill(roundtable, number, topic, recorded, summary)
            _registrations(roundtable, members, rng)
            _questions(roundtable, members, rng)


def _fill(roundtable, number, topic, recorded, summary):
    roundtable.topic = topic
    roundtable.description = (
        "A quarterly webinar discussion of a top-of-mind issue with the alliance's "
        "faculty and national authorities in and outside of health care."
    )
    roundtable.join_url = f"https://webinar.example.org/leadership-alliance/q{number}"
    roundtable.passcode = f"LVR{number}2021"
    roundtable.status = Roundtable.Status.COMPLETED
    if recorded:
        roundtable.recording_url = (
            f"https://video.example.org/leadership-alliance/roundtable-q{number}"
        )
        roundtable.summary = summary
        if not roundtable.slides:
            roundtable.slides.save(
                f"roundtable-q{number}-slides.pdf",
                ContentFile(
                    simple_pdf([roundtable.title, topic, "Slides for members of the alliance."])
                ),
                save=False,
            )
    roundtable.save()


def _registrations(roundtable, members, rng):
    # Drawn whatever exists already, so a reload makes the same choices.
    chosen = rng.sample(members, k=min(len(members), 24))
    attended = {m.pk for m in chosen if rng.random() < 0.8}
    existing = set(roundtable.registrations.values_list("membership_id", flat=True))
    when = roundtable.starts_at - datetime.timedelta(days=14)
    RoundtableRegistration.objects.bulk_create(
        [
            RoundtableRegistration(
                alliance=roundtable.alliance,
                roundtable=roundtable,
                membership=membership,
                status=RoundtableRegistration.Status.REGISTERED,
                requested_at=when + datetime.timedelta(minutes=17 * index),
                attended=membership.pk in attended,
            )
            for index, membership in enumerate(chosen)
            if membership.pk not in existing
        ]
    )


def _questions(roundtable, members, rng):
    registered = list(
        roundtable.registrations.select_related("membership").order_by("requested_at", "pk")
    )
    picks = [rng.randrange(len(QUESTIONS)) for _ in range(3)]
    voters = [rng.sample(registered, k=min(len(registered), rng.randint(1, 8))) for _ in picks]
    for index, (pick, voting) in enumerate(zip(picks, voters, strict=True)):
        asker = registered[index].membership
        question, _ = Question.objects.get_or_create(
            alliance=roundtable.alliance,
            roundtable=roundtable,
            asked_by=asker,
            text=QUESTIONS[pick],
            defaults={"asked_at": roundtable.starts_at - datetime.timedelta(days=3 - index)},
        )
        for registration in voting:
            if registration.membership_id != asker.pk:
                QuestionVote.objects.get_or_create(
                    alliance=roundtable.alliance,
                    question=question,
                    membership=registration.membership,
                )
