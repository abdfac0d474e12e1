from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import pagecache, selectors, services
from .forms import NeedHelpForm
from .health import health


@login_required
def home(request):
    alliances = selectors.alliances_for_user(user=request.user)
    return render(request, "alliance/home.html", {"alliances": alliances})


@pagecache.member_page
def alliance_home(request, alliance_slug):
    alliance = request.alliance
    return render(
        request,
        "alliance/alliance_home.html",
        {
            "program_year": selectors.current_program_year(alliance=alliance),
            "notices": selectors.active_notices(alliance=alliance),
            "upcoming": selectors.upcoming_events(alliance=alliance),
        },
    )


@require_http_methods(["GET", "POST"])
def need_help(request, alliance_slug):
    """The alliance's contact, and a form that mails the staff (Reply-To: the member)."""
    form = NeedHelpForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.need_help_send(
                alliance=request.alliance,
                user=request.user,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
            )
        except services.RateLimited:
            # The form comes back with what was typed, so nothing is lost.
            form.add_error(
                None,
                "Too many messages were sent in the last hour, so this one was not sent. "
                "Your text is kept below: try again later, or write to "
                f"{request.alliance.contact_email}.",
            )
            status = 429
        else:
            messages.success(
                request,
                "Your message is on its way to the staff; a copy is on its way to you. "
                "They will reply by email.",
            )
            return redirect("need_help", alliance_slug=request.alliance.slug)
    return render(
        request,
        "alliance/need_help.html",
        {
            "staff_contacts": selectors.alliance_staff_contacts(alliance=request.alliance),
            "form": form,
        },
        status=status,
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
    """Database, cache and broker, each reported; 503 only when the database fails."""
    status, checks = health()
    return JsonResponse({"status": status, **checks}, status=503 if status == "error" else 200)
