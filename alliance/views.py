from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors


@login_required
def home(request):
    alliances = selectors.alliances_for_user(user=request.user)
    return render(request, "alliance/home.html", {"alliances": alliances})


def alliance_home(request, alliance_slug):
    alliance = request.alliance
    return render(
        request,
        "alliance/alliance_home.html",
        {
            "program_year": selectors.current_program_year(alliance=alliance),
            "notices": selectors.active_notices(alliance=alliance),
            "upcoming": selectors.upcoming_meetings(alliance=alliance),
        },
    )


def need_help(request, alliance_slug):
    return render(
        request,
        "alliance/need_help.html",
        {
            "staff_contacts": selectors.alliance_staff_contacts(alliance=request.alliance),
        },
    )


def alliance_logo(request, alliance_slug):
    """The logo is served to members only, like every uploaded file."""
    logo = request.alliance.logo
    if not logo:
        raise Http404("This alliance has no logo.")
    response = FileResponse(logo.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@never_cache
def healthz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer, not a crash
        checks["database"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
