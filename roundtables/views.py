import os

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from alliance.downloads import document_response
from alliance.links import url_for_each
from alliance.selectors import current_program_year
from sessions import calendars as meeting_calendars
from sessions.selectors import program_years, times_for

from . import calendars, selectors, services
from .forms import QuestionForm


def _viewer_zone(request) -> str:
    return request.user.time_zone or request.alliance.time_zone


def roundtable_list(request, alliance_slug):
    """The program year's roundtables: what is coming, and recordings of the past ones."""
    years = program_years(alliance=request.alliance)
    chosen = request.GET.get("year", "")
    program_year = next(
        (y for y in years if str(y.pk) == chosen),
        current_program_year(alliance=request.alliance),
    )
    roundtables = []
    if program_year is not None:
        roundtables = list(
            selectors.roundtables_for_year(
                alliance=request.alliance,
                program_year=program_year,
                membership=request.membership,
            )
        )
    zone = _viewer_zone(request)
    page_url = url_for_each(
        "roundtables:detail", alliance_slug=request.alliance.slug, id_kwarg="roundtable_id"
    )
    for roundtable in roundtables:
        roundtable.times = times_for(roundtable, zone)
        roundtable.page_url = page_url(roundtable.pk)
    return render(
        request,
        "roundtables/roundtable_list.html",
        {
            "program_year": program_year,
            "program_years": years,
            "upcoming": [r for r in roundtables if not r.has_happened],
            "past": [r for r in roundtables if r.has_happened],
        },
    )


def _detail(request, roundtable, *, form=None, status=200):
    registration = selectors.registration_of(roundtable=roundtable, membership=request.membership)
    google_url, outlook_url = calendars.add_links(roundtable)
    return render(
        request,
        "roundtables/roundtable_detail.html",
        {
            "roundtable": roundtable,
            "times": times_for(roundtable, _viewer_zone(request)),
            "registration": registration,
            "seated": registration is not None
            and registration.status == registration.Status.REGISTERED,
            "waitlist_position": registration and services.waitlist_position(registration),
            "show_join_link": services.join_link_visible(roundtable, registration),
            "join_link_opens_at": roundtable.join_link_opens_at(),
            "questions": selectors.questions_ranked(
                roundtable=roundtable, membership=request.membership
            ),
            "form": form or QuestionForm(),
            "google_url": google_url,
            "outlook_url": outlook_url,
            "slides_name": os.path.basename(roundtable.slides.name) if roundtable.slides else "",
        },
        status=status,
    )


def roundtable_detail(request, alliance_slug, roundtable_id):
    roundtable = selectors.roundtable_detail(alliance=request.alliance, pk=roundtable_id)
    return _detail(request, roundtable)


def _post_only(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _back(roundtable):
    return redirect(
        "roundtables:detail",
        alliance_slug=roundtable.alliance.slug,
        roundtable_id=roundtable.pk,
    )


def register(request, alliance_slug, roundtable_id):
    # Look up first: another alliance's id is a 404 whatever the method.
    roundtable = selectors.roundtable_detail(alliance=request.alliance, pk=roundtable_id)
    if refused := _post_only(request):
        return refused
    try:
        registration = services.roundtable_register(
            roundtable=roundtable, membership=request.membership
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        if registration.status == registration.Status.WAITLISTED:
            messages.warning(
                request,
                "The roundtable is full: you are on the waitlist, and you get a seat "
                "(and an email) as soon as one frees up.",
            )
        else:
            messages.success(request, f"You are registered for {roundtable}.")
    return _back(roundtable)


def cancel(request, alliance_slug, roundtable_id):
    roundtable = selectors.roundtable_detail(alliance=request.alliance, pk=roundtable_id)
    if refused := _post_only(request):
        return refused
    try:
        services.roundtable_registration_cancel(
            roundtable=roundtable, membership=request.membership
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"You are no longer registered for {roundtable}.")
    return _back(roundtable)


def ask(request, alliance_slug, roundtable_id):
    roundtable = selectors.roundtable_detail(alliance=request.alliance, pk=roundtable_id)
    if refused := _post_only(request):
        return refused
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_ask(
                roundtable=roundtable,
                membership=request.membership,
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            form.add_error("text", error.messages[0])
        else:
            messages.success(request, "Your question is in. Thank you.")
            return _back(roundtable)
    # The question stays in the form: nothing typed is lost.
    return _detail(request, roundtable, form=form, status=400)


def vote(request, alliance_slug, roundtable_id, question_id):
    question = selectors.question_for_vote(
        alliance=request.alliance, roundtable_id=roundtable_id, pk=question_id
    )
    if refused := _post_only(request):
        return refused
    try:
        services.question_vote(question=question, membership=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Your vote is counted.")
    return _back(question.roundtable)


def slides(request, alliance_slug, roundtable_id):
    """Served to members only: uploaded files have no public URL."""
    roundtable = selectors.roundtable_detail(alliance=request.alliance, pk=roundtable_id)
    return document_response(roundtable.slides)


def roundtable_ics(request, alliance_slug, roundtable_id):
    roundtable = selectors.roundtable_detail(alliance=request.alliance, pk=roundtable_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if calendars.event_span(roundtable) is None:
        raise Http404("This roundtable has no date yet.")
    content = meeting_calendars.calendar_of(
        calendars.events_for([roundtable], request.membership), name=roundtable.title
    )
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    filename = f"{slugify(roundtable.title)[:60] or 'roundtable'}.ics"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
