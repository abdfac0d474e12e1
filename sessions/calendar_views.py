"""Calendar downloads, the personal feed page, and the tenant-free feed itself."""

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_scopes import scope

from . import calendars, services

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar_response(content: bytes, *, cache_control: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CALENDAR_CONTENT_TYPE)
    response["Cache-Control"] = cache_control
    return response


def meeting_ics(request, alliance_slug, meeting_id):
    """One meeting as an .ics file; the join link only for a registrant who attends."""
    # Look up first: another alliance's id is a 404 whatever the method.
    meeting = get_object_or_404(
        calendars.calendar_meetings(request.alliance), pk=meeting_id, alliance=request.alliance
    )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if calendars.event_span(meeting) is None:
        raise Http404("This meeting has no date yet.")
    content = calendars.calendar_for(
        [meeting],
        registered_ids=calendars.attending_meeting_ids(request.membership, [meeting]),
        name=meeting.title,
    )
    response = _calendar_response(content, cache_control="private, no-cache")
    filename = f"{slugify(meeting.title)[:60] or 'meeting'}.ics"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@never_cache  # the page shows a secret link
def calendar_page(request, alliance_slug):
    """The member's personal feed link, how to subscribe, and revoking it."""
    if request.method == "POST":
        services.calendar_feed_revoke(membership=request.membership)
        messages.success(
            request,
            "Your old calendar link no longer works. Subscribe again with the new link below.",
        )
        return redirect("meetings:calendar", alliance_slug=request.alliance.slug)
    feed_url = calendars.feed_url(request.membership)
    return render(
        request,
        "meetings/calendar.html",
        {
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[-1],
        },
    )


@require_safe
def calendar_feed(request, token):
    """The personal feed a calendar app subscribes to. Tenant-free: calendar apps
    cannot sign in, so the signed token is the credential and names the alliance."""
    membership = calendars.membership_from_feed_token(token)
    if membership is None:
        raise Http404("This calendar link is not valid, or it was revoked.")
    with scope(alliance=membership.alliance):
        content = calendars.feed_calendar(membership)
    return _calendar_response(content, cache_control="private, max-age=300")
