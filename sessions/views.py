from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from alliance import pagecache
from alliance.links import url_for_each
from alliance.selectors import current_program_year
from roundtables import selectors as roundtable_selectors

from . import calendars, selectors, services
from .forms import RSVPForm, ScheduleFilterForm
from .models import Meeting


def _viewer_zone(request) -> str:
    return request.user.time_zone or request.alliance.time_zone


@pagecache.member_page
def schedule(request, alliance_slug):
    """The program year's interactions by month, with filters; past years browsable.

    Meetings and roundtable webinars together: members plan the year as one.
    """
    years = selectors.program_years(alliance=request.alliance)
    form = ScheduleFilterForm(request.GET or None, program_years=years)
    filters = form.cleaned_data if form.is_valid() else {}
    current = current_program_year(alliance=request.alliance)
    program_year = next((y for y in years if y.pk == filters.get("year")), current)
    kind, format, mine = filters.get("kind", ""), filters.get("format", ""), filters.get("mine")
    items = []
    if program_year is not None and kind != ScheduleFilterForm.ROUNDTABLES:
        items += selectors.schedule_meetings(
            alliance=request.alliance,
            program_year=program_year,
            membership=request.membership,
            kind=kind,
            format=format,
            mine=mine,
        )
    webinars_match = kind in ("", ScheduleFilterForm.ROUNDTABLES) and format in (
        "",
        Meeting.Format.VIRTUAL,  # webinars are virtual
    )
    if program_year is not None and webinars_match:
        items += roundtable_selectors.roundtables_for_year(
            alliance=request.alliance,
            program_year=program_year,
            membership=request.membership,
            mine=mine,
        )
    zone = _viewer_zone(request)
    slug = request.alliance.slug
    page_urls = {
        "meeting": url_for_each("meetings:detail", alliance_slug=slug, id_kwarg="meeting_id"),
        "roundtable": url_for_each(
            "roundtables:detail", alliance_slug=slug, id_kwarg="roundtable_id"
        ),
    }
    for item in items:
        item.times = selectors.times_for(item, zone)
        item.page_url = page_urls[item.schedule_kind](item.pk)
    return render(
        request,
        "meetings/schedule.html",
        {
            "form": form,
            "program_year": program_year,
            "months": selectors.by_month(
                sorted(items, key=selectors.schedule_order), request.alliance.time_zone
            ),
        },
    )


@pagecache.member_page
def meeting_detail(request, alliance_slug, meeting_id):
    meeting = selectors.meeting_detail(alliance=request.alliance, pk=meeting_id)
    registration = selectors.registration_of(meeting=meeting, membership=request.membership)
    return render(
        request,
        "meetings/meeting_detail.html",
        _detail_context(
            request,
            meeting,
            registration,
            RSVPForm(
                meeting=meeting,
                initial={"response": registration.response if registration else None},
            ),
        ),
    )


def _detail_context(request, meeting, registration, form):
    attending = registration is not None and registration.is_attending
    return {
        "meeting": meeting,
        "times": selectors.times_for(meeting, _viewer_zone(request)),
        "registration": registration,
        # The join link is for registrants only, never for the merely invited.
        "show_join_link": attending and meeting.status != Meeting.Status.CANCELLED,
        "invited": services.is_invited(meeting, request.membership),
        "form": form,
        "changes": meeting.changes.select_related("changed_by")[:5],
        "google_url": calendars.google_calendar_url(meeting),
        "outlook_url": calendars.outlook_calendar_url(meeting),
    }


def rsvp(request, alliance_slug, meeting_id):
    # Look up first: another alliance's id is a 404 whatever the method.
    meeting = selectors.meeting_detail(alliance=request.alliance, pk=meeting_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RSVPForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            registration = services.registration_respond(
                meeting=meeting,
                membership=request.membership,
                response=form.cleaned_data["response"],
            )
        except ValidationError as error:
            form.add_error("response", error.messages[0])
        else:
            messages.success(request, f"{registration.get_response_display()}: {meeting}.")
            return redirect("meetings:detail", alliance_slug=alliance_slug, meeting_id=meeting.pk)
    registration = selectors.registration_of(meeting=meeting, membership=request.membership)
    return render(
        request,
        "meetings/meeting_detail.html",
        _detail_context(request, meeting, registration, form),
        status=400,
    )


def host_rotation(request, alliance_slug):
    program_year = current_program_year(alliance=request.alliance)
    context = {"program_year": program_year, "sessions": [], "not_yet": []}
    if program_year is not None:
        context.update(
            selectors.host_rotation(alliance=request.alliance, program_year=program_year)
        )
    return render(request, "meetings/host_rotation.html", context)
