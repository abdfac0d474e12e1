"""Read queries for the roundtable pages."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from alliance.models import Alliance, ProgramYear
from members.models import Membership, Speaker

from .models import Question, QuestionVote, Roundtable, RoundtableRegistration

Status = RoundtableRegistration.Status


def _with_facilitators(roundtables: QuerySet[Roundtable]) -> QuerySet[Roundtable]:
    return roundtables.prefetch_related(
        Prefetch("facilitators", queryset=Speaker.objects.order_by("name"))
    )


def _with_my_status(roundtables: QuerySet[Roundtable], membership: Membership):
    mine = RoundtableRegistration.objects.filter(
        roundtable=OuterRef("pk"), membership=membership
    ).exclude(status=Status.CANCELLED)
    return roundtables.annotate(my_status=Subquery(mine.values("status")[:1]))


def roundtables_for_year(
    *,
    alliance: Alliance,
    program_year: ProgramYear,
    membership: Membership,
    mine: bool = False,
) -> QuerySet[Roundtable]:
    roundtables = _with_my_status(
        _with_facilitators(
            Roundtable.objects.filter(alliance=alliance, program_year=program_year)
        ).select_related("alliance"),
        membership,
    ).order_by("starts_at", "original_starts_at", "pk")
    if mine:
        roundtables = roundtables.filter(my_status__isnull=False)
    return roundtables


def roundtable_detail(*, alliance: Alliance, pk: int) -> Roundtable:
    return get_object_or_404(
        _with_facilitators(Roundtable.objects.select_related("alliance", "program_year")).annotate(
            seats_taken=Count("registrations", filter=Q(registrations__status=Status.REGISTERED)),
            waitlisted=Count("registrations", filter=Q(registrations__status=Status.WAITLISTED)),
        ),
        alliance=alliance,
        pk=pk,
    )


def registration_of(
    *, roundtable: Roundtable, membership: Membership
) -> RoundtableRegistration | None:
    return RoundtableRegistration.objects.filter(
        roundtable=roundtable, membership=membership
    ).first()


def questions_ranked(*, roundtable: Roundtable, membership: Membership) -> list[Question]:
    """Visible questions, most votes (from other members) first, then oldest."""
    mine = QuestionVote.objects.filter(question=OuterRef("pk"), membership=membership)
    return list(
        Question.objects.filter(
            alliance_id=roundtable.alliance_id, roundtable=roundtable, is_hidden=False
        )
        .select_related("asked_by__user", "asked_by__organization")
        .annotate(vote_count=Count("votes"), voted=Exists(mine))
        .order_by("-vote_count", "asked_at", "pk")
    )


def question_for_vote(*, alliance: Alliance, roundtable_id: int, pk: int) -> Question:
    return get_object_or_404(
        Question.objects.select_related("roundtable__alliance", "alliance"),
        alliance=alliance,
        roundtable_id=roundtable_id,
        pk=pk,
    )
