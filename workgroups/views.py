import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from alliance import pagecache
from alliance.selectors import current_program_year
from alliance.tenancy.permissions import has_alliance_permission
from members.models import Organization

from . import imports, selectors, services
from .forms import CommitmentForm, GoalForm, ProposalForm, ReadingForm
from .models import Commitment, FocusProposal, GoalSet, Reading


def _viewer_organization_id(request):
    return request.membership.organization_id


def workgroup_list(request, alliance_slug):
    return render(
        request,
        "workgroups/workgroup_list.html",
        {
            "workgroups": selectors.workgroup_list(alliance=request.alliance),
        },
    )


@pagecache.member_page
def workgroup_detail(request, alliance_slug, workgroup_slug):
    workgroup = selectors.workgroup_detail(
        alliance=request.alliance,
        slug=workgroup_slug,
        viewer=request.membership,
        with_publications=True,
    )
    participations = workgroup.participations.all()
    summaries = selectors.summarize(
        list(workgroup.measures.all()),
        alliance=request.alliance,
        expected=selectors.expected_from_participations(participations),
        names={p.organization_id: p.organization.name for p in participations},
        viewer_organization_id=_viewer_organization_id(request),
    )
    return render(
        request,
        "workgroups/workgroup_detail.html",
        {
            "workgroup": workgroup,
            "participations": participations,
            "summaries": summaries,
            "can_see_completeness": _can_see_completeness(request, workgroup),
        },
    )


@pagecache.member_page
def measure_detail(request, alliance_slug, measure_id):
    measure = selectors.measure_detail(alliance=request.alliance, pk=measure_id)
    expected, names = selectors.measure_expected(measure)
    [summary] = selectors.summarize(
        [measure],
        alliance=request.alliance,
        expected=expected,
        names=names,
        viewer_organization_id=_viewer_organization_id(request),
        with_peers=True,
    )
    organization = request.membership.organization
    return render(
        request,
        "workgroups/measure_detail.html",
        {
            "measure": measure,
            "summary": summary,
            "can_report": organization is not None
            and services.can_report_for(
                user=request.user, measure=measure, organization=organization
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def measure_report(request, alliance_slug, measure_id):
    """Data entry for one organization: the periods due, the last values prefilled."""
    measure = selectors.measure_detail(alliance=request.alliance, pk=measure_id)
    organization = _reporting_organization(request, measure)
    periods = selectors.chart_periods(measure, timezone.localdate())
    history = list(
        Reading.objects.filter(measure=measure, organization=organization)
        .select_related("updated_by")
        .order_by("-period_start")
    )
    reported = {r.period_start for r in history}
    chosen = request.GET.get("period")
    due = [p for p in periods if p not in reported]
    initial = {"period_start": chosen or (due[-1].isoformat() if due else None)}
    last = history[0] if history else None
    if last is not None:  # prefill with the last values reported
        initial.update(numerator=last.numerator, denominator=last.denominator)
    form = ReadingForm(
        request.POST or None,
        initial=initial,
        measure=measure,
        organization=organization,
        periods=periods,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reading = services.reading_save(
            measure=measure,
            organization=organization,
            period_start=data["period_start"],
            numerator=data.get("numerator"),
            denominator=data.get("denominator"),
            achieved=data.get("achieved"),
            note=data.get("note", ""),
            by=request.user,
        )
        messages.success(request, f"Saved {reading}.")
        url = request.path + (
            f"?organization={organization.pk}"
            if organization != request.membership.organization
            else ""
        )
        return redirect(url)
    return render(
        request,
        "workgroups/measure_report.html",
        {
            "measure": measure,
            "organization": organization,
            "form": form,
            "history": history,
            "due": due,
            "periods_total": len(periods),
        },
    )


def _reporting_organization(request, measure) -> Organization:
    """The member's own organization; alliance staff may choose any participant."""
    organization = request.membership.organization
    if has_alliance_permission(request.user, request.alliance, "readings.manage"):
        chosen = request.GET.get("organization") or request.POST.get("organization_id")
        if chosen and chosen.isdigit():
            organization = get_object_or_404(Organization, pk=chosen, alliance=request.alliance)
    if organization is None or not services.can_report_for(
        user=request.user, measure=measure, organization=organization
    ):
        raise PermissionDenied
    return organization


def _can_see_completeness(request, workgroup) -> bool:
    if has_alliance_permission(request.user, request.alliance, "readings.manage"):
        return True
    if hasattr(workgroup, "viewer_is_lead"):  # annotated by the selector: no query
        return workgroup.viewer_is_lead
    return any(lead.pk == request.membership.pk for lead in workgroup.leads.all())


def completeness(request, alliance_slug, workgroup_slug):
    workgroup = selectors.workgroup_detail(alliance=request.alliance, slug=workgroup_slug)
    if not _can_see_completeness(request, workgroup):
        raise PermissionDenied
    return render(
        request,
        "workgroups/completeness.html",
        {
            "workgroup": workgroup,
            "board": selectors.completeness(workgroup=workgroup),
        },
    )


def my_organization(request, alliance_slug):
    organization = request.membership.organization
    if organization is None:
        return render(request, "workgroups/my_organization.html", {"organization": None})
    program_year = current_program_year(alliance=request.alliance)
    goals = selectors.goals_for(organization=organization, program_year=program_year)
    # One query: this organization's readings, for data due and the goals' charts.
    observations = selectors.load_observations(
        alliance=request.alliance, measures=None, organization=organization
    )
    summaries = selectors.summarize(
        [g.measure for g in goals],
        alliance=request.alliance,
        expected={organization.pk: datetime.date.min},
        names={organization.pk: organization.name},
        viewer_organization_id=organization.pk,
        observations=observations,
    )
    reported = {(measure_id, o.period) for measure_id, obs in observations.items() for o in obs}
    return render(
        request,
        "workgroups/my_organization.html",
        {
            "organization": organization,
            "program_year": program_year,
            "goal_set": goals[0].goal_set if goals else None,
            "goals": [
                (goal, summary, selectors.goal_progress(goal, summary, program_year))
                for goal, summary in zip(goals, summaries, strict=True)
            ],
            "commitments": selectors.commitments_for(organization=organization),
            "due": selectors.data_due(organization=organization, reported=reported),
            "can_edit": has_alliance_permission(request.user, request.alliance, "readings.submit"),
            "goal_limits": (GoalSet.MIN_GOALS, GoalSet.MAX_GOALS),
        },
    )


def _own_goal_set(request, *, create: bool) -> GoalSet | None:
    """The member's organization's goal set for the current program year.

    Created only by a POST: a GET never changes state.
    """
    organization = request.membership.organization
    if organization is None or not has_alliance_permission(
        request.user, request.alliance, "readings.submit"
    ):
        raise PermissionDenied
    program_year = current_program_year(alliance=request.alliance)
    if create:
        return GoalSet.objects.get_or_create(
            alliance=request.alliance, organization=organization, program_year=program_year
        )[0]
    return GoalSet.objects.filter(organization=organization, program_year=program_year).first()


@require_http_methods(["GET", "POST"])
def goal_add(request, alliance_slug):
    goal_set = _own_goal_set(request, create=request.method == "POST")
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_add(goal_set=goal_set, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Goal added.")
            return redirect("workgroups:my_organization", alliance_slug=alliance_slug)
    return render(request, "workgroups/goal_form.html", {"form": form, "goal_set": goal_set})


@require_POST
def goal_set_submit(request, alliance_slug):
    goal_set = _own_goal_set(request, create=True)
    try:
        services.goal_set_submit(goal_set=goal_set, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Your goals are submitted to the alliance staff.")
    return redirect("workgroups:my_organization", alliance_slug=alliance_slug)


@require_http_methods(["GET", "POST"])
def commitment_edit(request, alliance_slug, commitment_id):
    organization = request.membership.organization
    commitment = get_object_or_404(
        Commitment, pk=commitment_id, alliance=request.alliance, organization=organization
    )
    if not has_alliance_permission(request.user, request.alliance, "readings.submit"):
        raise PermissionDenied
    form = CommitmentForm(request.POST or None, instance=commitment)
    if request.method == "POST" and form.is_valid():
        services.commitment_update(
            commitment=commitment,
            by=request.user,
            status=form.cleaned_data["status"],
            evidence=form.cleaned_data["evidence"],
        )
        messages.success(request, "Commitment updated.")
        return redirect("workgroups:my_organization", alliance_slug=alliance_slug)
    return render(
        request, "workgroups/commitment_form.html", {"form": form, "commitment": commitment}
    )


@require_http_methods(["GET", "POST"])
def proposal_list(request, alliance_slug):
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.focus_proposal_create(membership=request.membership, **form.cleaned_data)
        messages.success(request, "Your proposal is posted for members to endorse.")
        return redirect("workgroups:proposals", alliance_slug=alliance_slug)
    proposals = list(selectors.proposals(alliance=request.alliance))
    endorsed = set(
        FocusProposal.endorsed_by.through.objects.filter(
            membership=request.membership, focusproposal__in=proposals
        ).values_list("focusproposal_id", flat=True)
    )
    return render(
        request,
        "workgroups/proposals.html",
        {"proposals": proposals, "endorsed": endorsed, "form": form},
    )


def proposal_endorse(request, alliance_slug, proposal_id):
    # Look up first: another alliance's id is a 404 whatever the method.
    proposal = get_object_or_404(FocusProposal, pk=proposal_id, alliance=request.alliance)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.focus_proposal_endorse(proposal=proposal, membership=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"You endorsed “{proposal.title}”.")
    return redirect("workgroups:proposals", alliance_slug=alliance_slug)


def _upload_example_name(request, measure) -> str:
    """The organization the guide's example names; refuses who may not upload at all.

    Alliance staff may upload for any organization that reports the measure; a
    member, for their own when it does (`services.can_report_for` decides).
    """
    organization = request.membership.organization
    if has_alliance_permission(request.user, request.alliance, "readings.manage"):
        _, names = selectors.measure_expected(measure)
        return next(iter(names.values()), "Your organization")
    if organization is None or not services.can_report_for(
        user=request.user, measure=measure, organization=organization
    ):
        raise PermissionDenied
    return organization.name


@require_http_methods(["GET", "POST"])
def measure_upload(request, alliance_slug, measure_id):
    """Many readings from one CSV file: a preview of every row, then all saved or none.

    The confirmation carries the file text signed for this measure and user, and
    checks it again from scratch: nothing the browser sends is trusted.
    """
    measure = selectors.measure_detail(alliance=request.alliance, pk=measure_id)
    example_name = _upload_example_name(request, measure)
    own = request.membership.organization
    form, preview, payload, status = imports.ReadingUploadForm(), None, "", 200
    if request.method == "POST" and "payload" in request.POST:
        text = imports.unsign_upload(request.POST["payload"], measure=measure, user=request.user)
        if text is None:
            messages.error(
                request,
                "This upload could not be checked: it was changed, or the preview is more "
                "than an hour old. Nothing was saved; upload the file again.",
            )
            status = 400
        else:
            preview = imports.parse_readings(measure=measure, by=request.user, text=text)
            if preview.ok:
                try:
                    saved = services.readings_import(
                        measure=measure, by=request.user, rows=preview.rows
                    )
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
                else:
                    messages.success(
                        request, f"Saved {len(saved)} reading{'s' if len(saved) != 1 else ''}."
                    )
                    response = redirect(
                        "workgroups:report", alliance_slug=alliance_slug, measure_id=measure.pk
                    )
                    first = saved[0].organization_id
                    if own is None or first != own.pk:  # staff: the first row's organization
                        response["Location"] += f"?organization={first}"
                    return response
            else:
                messages.error(
                    request, "Something changed since the preview (see below); nothing was saved."
                )
    elif request.method == "POST":
        form = imports.ReadingUploadForm(request.POST, request.FILES)
        if form.is_valid():
            preview = imports.parse_readings(measure=measure, by=request.user, text=form.text)
            if preview.ok:
                payload = imports.sign_upload(form.text, measure=measure, user=request.user)
    return render(
        request,
        "workgroups/measure_upload.html",
        {
            "measure": measure,
            "form": form,
            "preview": preview,
            "payload": payload,
            "example": imports.example_csv(measure, example_name),
            "own_organization": own,
            "max_rows": imports.MAX_ROWS,
        },
        status=status,
    )
