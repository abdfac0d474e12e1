from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from alliance import pagecache

from . import selectors, services
from .adapters import INVITATION_SESSION_KEY
from .forms import DirectoryFilterForm, EmailPreferencesForm, ProfileForm
from .models import Membership, Organization, User

PAGE_SIZE = 50


@pagecache.member_page
def directory(request, alliance_slug):
    form = DirectoryFilterForm(request.GET or None, alliance=request.alliance)
    filters = form.cleaned_data if form.is_valid() else {}
    people = selectors.directory_people(
        alliance=request.alliance,
        query=filters.get("q", ""),
        role=filters.get("role", ""),
        organization=filters.get("organization"),
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/directory.html", {"form": form, "page": page})


def organization_list(request, alliance_slug):
    query = request.GET.get("q", "")[:100]
    organizations = selectors.directory_organizations(alliance=request.alliance, query=query)
    return render(
        request, "members/organization_list.html", {"organizations": organizations, "query": query}
    )


def organization_detail(request, alliance_slug, organization_id):
    organization = get_object_or_404(Organization, pk=organization_id, alliance=request.alliance)
    return render(
        request,
        "members/organization_detail.html",
        {
            "organization": organization,
            "people": selectors.organization_people(organization=organization),
        },
    )


def person_detail(request, alliance_slug, membership_id):
    person = get_object_or_404(
        Membership.objects.select_related("user", "organization"),
        pk=membership_id,
        alliance=request.alliance,
        is_active=True,
    )
    return render(request, "members/person_detail.html", {"person": person})


def _image_response(field):
    if not field:
        raise Http404("No image.")
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


def person_photo(request, alliance_slug, membership_id):
    person = get_object_or_404(
        Membership.objects.select_related("user"),
        pk=membership_id,
        alliance=request.alliance,
        is_active=True,
    )
    return _image_response(person.user.photo)


def organization_logo(request, alliance_slug, organization_id):
    organization = get_object_or_404(Organization, pk=organization_id, alliance=request.alliance)
    return _image_response(organization.logo)


@require_http_methods(["GET", "POST"])
def profile(request, alliance_slug):
    membership = request.membership
    form = ProfileForm(
        request.POST or None,
        request.FILES or None,
        instance=request.user,
        initial={"title": membership.title},
    )
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, membership=membership, form=form)
        messages.success(request, "Your profile is saved.")
        return redirect("members:profile", alliance_slug=alliance_slug)
    return render(request, "members/profile.html", {"form": form})


@require_http_methods(["GET", "POST"])
def email_preferences(request, alliance_slug):
    """Which emails the member gets from this alliance (their other alliances keep theirs)."""
    membership = request.membership
    # Bound on every POST, even an empty one, so that it answers with errors.
    form = EmailPreferencesForm(
        request.POST if request.method == "POST" else None, membership=membership
    )
    if form.is_valid():
        services.email_preferences_update(
            membership=membership,
            digest=form.cleaned_data["digest"],
            reminders=form.cleaned_data["reminders"],
        )
        messages.success(request, "Your email preferences are saved.")
        return redirect("members:preferences", alliance_slug=alliance_slug)
    return render(request, "members/preferences.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The link in an invitation email. GET shows it; POST accepts or starts signup."""
    invitation = services.invitation_from_token(token)
    if invitation is None:
        raise Http404("This invitation link is not valid.")
    with scope(alliance=invitation.alliance):
        try:
            services.invitation_check_usable(invitation)
        except services.InvitationError as error:
            return render(
                request,
                "members/invitation.html",
                {"invitation": invitation, "problem": error.messages[0]},
                status=410,
            )
        if request.method == "POST":
            return _invitation_post(request, invitation, token)
        has_account = User.objects.filter(email__iexact=invitation.email).exists()
        return render(
            request,
            "members/invitation.html",
            {
                "invitation": invitation,
                "has_account": has_account,
                "login_url": f"{reverse('account_login')}?next={request.path}",
            },
        )


def _invitation_post(request, invitation, token):
    if request.user.is_authenticated:
        membership = services.invitation_accept(invitation=invitation, user=request.user)
        if membership is None:
            messages.info(
                request,
                f"This invitation was sent to {invitation.email}. The "
                f"{invitation.alliance.short_name} staff will confirm it.",
            )
            return redirect("home")
        messages.success(request, f"Welcome to {invitation.alliance.name}.")
        return redirect("alliance_home", alliance_slug=invitation.alliance.slug)
    # Signing up: the invited address is verified by this very link.
    request.session[INVITATION_SESSION_KEY] = token
    get_adapter(request).stash_verified_email(request, invitation.email)
    return redirect(f"{reverse('account_signup')}?email={invitation.email}")
