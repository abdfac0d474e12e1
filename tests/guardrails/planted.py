"""Deliberately broken views, mounted only by tests that prove a guardrail fires.

Each view makes one mistake the guardrails exist to catch. Never imported by
the application's own URLconf.
"""

from csp.decorators import csp_exempt
from django.http import HttpResponse
from django.urls import include, path

from alliance.models import Alliance
from alliance.urls import urlpatterns as real_urlpatterns
from members.models import Membership, Organization


def leak_by_id(request, alliance_slug, organization_id):
    # Mistake: the unscoped base manager and no alliance filter.
    organization = Organization._base_manager.get(pk=organization_id)
    return HttpResponse(organization.name)


def list_every_alliance(request, alliance_slug):
    # Mistake: Alliance is not scoped, so this shows other tenants' names.
    names = ", ".join(Alliance.objects.values_list("name", flat=True))
    return HttpResponse(f"<!DOCTYPE html><html lang='en'><body>{names}</body></html>")


def n_plus_one(request, alliance_slug):
    # Mistake: no select_related("user"): one query per membership.
    emails = [m.user.email for m in Membership.objects.filter(alliance=request.alliance)]
    return HttpResponse(", ".join(emails))


@csp_exempt()
def without_csp(request, alliance_slug):
    # Mistake: the CSP switched off, and an inline script.
    return HttpResponse("<html><body><script>alert(1)</script></body></html>")


def crash_on_bad_number(request, alliance_slug):
    if request.method == "POST":
        # Mistake: trusts the input to be a number.
        return HttpResponse(str(100 // int(request.POST["seats"])))
    return HttpResponse(
        '<form method="post" action=""><input name="seats" value="1">'
        '<button type="submit">Save</button></form>'
    )


def write_on_get(request, alliance_slug):
    # Mistake: a GET that changes state.
    Organization.objects.create(alliance=request.alliance, name="Made by a GET")
    return HttpResponse("done")


def not_linked_anywhere(request, alliance_slug):
    return HttpResponse("orphan")


planted_patterns = [
    path("leak/<int:organization_id>/", leak_by_id, name="planted_leak"),
    path("every-alliance/", list_every_alliance, name="planted_every_alliance"),
    path("n-plus-one/", n_plus_one, name="planted_n_plus_one"),
    path("without-csp/", without_csp, name="planted_without_csp"),
    path("crash/", crash_on_bad_number, name="planted_crash"),
    path("write-on-get/", write_on_get, name="planted_write_on_get"),
    path("orphan/", not_linked_anywhere, name="planted_orphan"),
]

urlpatterns = [
    path("<slug:alliance_slug>/planted/", include(planted_patterns)),
    *real_urlpatterns,
]
