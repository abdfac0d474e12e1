"""The collective voice (publications) and resources (documents) of an alliance.

Uploaded files are private: they are streamed here, to members of the file's
alliance only (the tenant middleware answers 404 to anyone else), never from a
public media URL.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .downloads import document_response
from .forms import PublicationFilterForm, PublicationForm

PUBLICATIONS_PER_PAGE = 25


@require_GET
def publication_list(request, alliance_slug):
    alliance, user = request.alliance, request.user
    form = PublicationFilterForm(request.GET or None, alliance=alliance)
    publications = selectors.publication_list(alliance=alliance, **form.filters())
    page = Paginator(publications, PUBLICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    editable = {
        publication.pk
        for publication in page.object_list
        if services.publication_can_edit(user=user, alliance=alliance, publication=publication)
    }
    return render(
        request,
        "alliance/voice/publication_list.html",
        {
            "form": form,
            "page": page,
            "editable": editable,
            "can_add": services.publication_can_add(user=user, alliance=alliance),
            "filtered": any(form.filters().values()),
        },
    )


@require_http_methods(["GET", "POST"])
def publication_add(request, alliance_slug):
    alliance, membership = request.alliance, request.membership
    if not services.publication_can_add(user=request.user, alliance=alliance):
        raise PermissionDenied
    form = PublicationForm(
        request.POST or None,
        request.FILES or None,
        alliance=alliance,
        membership=membership,
        can_manage=services.publication_can_manage(user=request.user, alliance=alliance),
    )
    if request.method == "POST" and form.is_valid():
        publication = services.publication_create(
            alliance=alliance,
            user=request.user,
            fields=form.publication_fields(),
            authors=list(form.cleaned_data["author_members"]),
            organizations=list(form.cleaned_data["author_organizations"]),
        )
        messages.success(request, f"“{publication.title}” is added to the collective voice.")
        return redirect("voice:list", alliance_slug=alliance.slug)
    return render(request, "alliance/voice/publication_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def publication_edit(request, alliance_slug, publication_id):
    alliance, membership = request.alliance, request.membership
    publication = selectors.publication_detail(alliance=alliance, pk=publication_id)
    if not services.publication_can_edit(
        user=request.user, alliance=alliance, publication=publication
    ):
        raise PermissionDenied
    form = PublicationForm(
        request.POST or None,
        request.FILES or None,
        instance=publication,
        alliance=alliance,
        membership=membership,
        can_manage=services.publication_can_manage(user=request.user, alliance=alliance),
    )
    if request.method == "POST" and form.is_valid():
        services.publication_update(
            alliance=alliance,
            publication=publication,
            user=request.user,
            fields=form.publication_fields(),
            authors=list(form.cleaned_data["author_members"]),
            organizations=list(form.cleaned_data["author_organizations"]),
        )
        messages.success(request, f"“{publication.title}” is saved.")
        return redirect("voice:list", alliance_slug=alliance.slug)
    return render(
        request,
        "alliance/voice/publication_form.html",
        {"form": form, "publication": publication},
    )


def publication_file(request, alliance_slug, publication_id):
    # Any method: the lookup comes first, so another alliance's id is a 404 either way.
    publication = selectors.publication_with_file(alliance=request.alliance, pk=publication_id)
    return document_response(publication.file)


@require_GET
def resource_list(request, alliance_slug):
    return render(
        request,
        "alliance/resources/resource_list.html",
        {"groups": selectors.resource_groups(alliance=request.alliance)},
    )


def resource_file(request, alliance_slug, resource_id):
    resource = selectors.resource_with_file(alliance=request.alliance, pk=resource_id)
    return document_response(resource.file)
