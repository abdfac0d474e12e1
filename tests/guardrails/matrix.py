"""The cross-tenant route matrix: every URL pattern, classified.

A new URL fails `test_route_coverage` until it is listed here, either in
TENANT_ROUTES (with how to build its ids from a tenant's objects) or as
tenant-free with a reason.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from .routes import walk
from .snapshot import tenant_rows


def _no_ids(tenant) -> dict:
    return {}


@dataclass(frozen=True)
class TenantRoute:
    #: URL kwargs besides the alliance slug, built from a conftest `Tenant`.
    ids: Callable = _no_ids
    #: An HTML page a member GETs: query budgets and the crawl cover it.
    page: bool = True
    #: Reachable by following links from the alliance home (the crawl checks).
    linked: bool = True
    #: Form fields a POST carries, so that the body also holds the other tenant's ids.
    post_fields: dict = field(default_factory=dict)


TENANT_ROUTES: dict[str, TenantRoute] = {
    "alliance_home": TenantRoute(),
    "need_help": TenantRoute(post_fields={"subject": "Hijack", "message": "Hijacked"}),
    # Images are served only when uploaded; the crawl fixture uploads them.
    "alliance_logo": TenantRoute(page=False),
    "members:directory": TenantRoute(),
    "members:profile": TenantRoute(post_fields={"full_name": "Hijacked", "title": "Hijacked"}),
    "members:preferences": TenantRoute(post_fields={"digest": "off", "reminders": ""}),
    "members:person": TenantRoute(ids=lambda t: {"membership_id": t.membership.pk}),
    "members:person_photo": TenantRoute(
        ids=lambda t: {"membership_id": t.membership.pk}, page=False
    ),
    "members:organizations": TenantRoute(),
    "members:organization": TenantRoute(ids=lambda t: {"organization_id": t.organization.pk}),
    "members:organization_logo": TenantRoute(
        ids=lambda t: {"organization_id": t.organization.pk}, page=False
    ),
    "meetings:schedule": TenantRoute(),
    "meetings:host_rotation": TenantRoute(),
    "meetings:detail": TenantRoute(ids=lambda t: {"meeting_id": t.meeting.pk}),
    "meetings:rsvp": TenantRoute(
        ids=lambda t: {"meeting_id": t.meeting.pk},
        page=False,
        linked=False,
        post_fields={"response": "in_person"},
    ),
    "meetings:ics": TenantRoute(ids=lambda t: {"meeting_id": t.meeting.pk}, page=False),
    "meetings:calendar": TenantRoute(),
    "workgroups:list": TenantRoute(),
    "workgroups:detail": TenantRoute(ids=lambda t: {"workgroup_slug": t.workgroup.slug}),
    # For alliance staff and workgroup leads: the staff crawl reaches it.
    "workgroups:completeness": TenantRoute(
        ids=lambda t: {"workgroup_slug": t.workgroup.slug}, page=False, linked=False
    ),
    "workgroups:measure": TenantRoute(ids=lambda t: {"measure_id": t.measure.pk}),
    "workgroups:report": TenantRoute(
        ids=lambda t: {"measure_id": t.measure.pk},
        post_fields={"period_start": "2020-11-01", "numerator": "1", "denominator": "1000"},
    ),
    "workgroups:upload": TenantRoute(
        ids=lambda t: {"measure_id": t.measure.pk},
        post_fields={"payload": "forged"},
    ),
    "workgroups:my_organization": TenantRoute(),
    "workgroups:goal_add": TenantRoute(post_fields={"statement": "Hijack", "baseline_value": "1"}),
    "workgroups:goal_set_submit": TenantRoute(page=False, linked=False),
    "workgroups:commitment": TenantRoute(
        ids=lambda t: {"commitment_id": t.commitment.pk},
        post_fields={"status": "in_place", "evidence": "hijacked"},
    ),
    "workgroups:proposals": TenantRoute(post_fields={"title": "Hijack", "description": "x"}),
    "workgroups:proposal_endorse": TenantRoute(
        ids=lambda t: {"proposal_id": t.proposal.pk}, page=False, linked=False
    ),
    # Roundtables
    "roundtables:list": TenantRoute(),
    "roundtables:detail": TenantRoute(ids=lambda t: {"roundtable_id": t.roundtable.pk}),
    "roundtables:register": TenantRoute(
        ids=lambda t: {"roundtable_id": t.roundtable.pk}, page=False, linked=False
    ),
    "roundtables:cancel": TenantRoute(
        ids=lambda t: {"roundtable_id": t.roundtable.pk}, page=False, linked=False
    ),
    "roundtables:ask": TenantRoute(
        ids=lambda t: {"roundtable_id": t.roundtable.pk},
        page=False,
        linked=False,
        post_fields={"text": "Hijacked question"},
    ),
    "roundtables:vote": TenantRoute(
        ids=lambda t: {"roundtable_id": t.roundtable.pk, "question_id": t.question.pk},
        page=False,
        linked=False,
    ),
    "roundtables:slides": TenantRoute(ids=lambda t: {"roundtable_id": t.roundtable.pk}, page=False),
    "roundtables:ics": TenantRoute(ids=lambda t: {"roundtable_id": t.roundtable.pk}, page=False),
    # (end of roundtables)
    # Collective voice and resources
    "voice:list": TenantRoute(),
    "voice:add": TenantRoute(
        post_fields={
            "kind": "report",
            "title": "Hijack",
            "published_on": "2021-03-01",
            "url": "https://hijack.example.org/",
        },
    ),
    # A's member is an author of A's publication, so the list links to its edit page.
    "voice:edit": TenantRoute(
        ids=lambda t: {"publication_id": t.publication.pk},
        post_fields={
            "kind": "report",
            "title": "Hijacked",
            "published_on": "2021-03-01",
            "url": "https://hijack.example.org/",
        },
    ),
    "voice:file": TenantRoute(ids=lambda t: {"publication_id": t.publication.pk}, page=False),
    "resources:list": TenantRoute(),
    "resources:file": TenantRoute(ids=lambda t: {"resource_id": t.resource.pk}, page=False),
    # (end of collective voice and resources)
}

# Routes that take no tenant id, each with the reason it is safe.
TENANT_FREE_ROUTES: dict[str, str] = {
    "home": "lists only the signed-in user's own alliances (test_pages)",
    "healthz": "reports service health, no data",
    "invitation": "the signed token names its alliance; replay and tampering in test_invitations",
    "calendar_feed": (
        "the signed token names its alliance and member; revocation and tampering in test_calendars"
    ),
    "unsubscribe": (
        "the signed token names its alliance and member, and the lookup runs in that alliance's "
        "scope; tampered and cross-alliance tokens in test_unsubscribe"
    ),
}
TENANT_FREE_PREFIXES: dict[str, str] = {
    "account_": "allauth: the signed-in user's own account; keys are signed tokens",
    "mfa_": "allauth MFA: the signed-in user's own authenticators",
    "admin:": "the Django admin: covered by the admin sweep (test_crawl)",
}
# Unnamed patterns Django's admin adds (redirects to named admin routes).
TENANT_FREE_UNNAMED_ROUTE_PREFIXES = ("admin/",)


def unlisted_routes() -> list[str]:
    """Every URL pattern that is neither in the matrix nor listed as tenant-free."""
    missing = []
    for route, name, _ in walk():
        if name is None:
            if not route.startswith(TENANT_FREE_UNNAMED_ROUTE_PREFIXES):
                missing.append(route)
        elif not (
            name in TENANT_ROUTES
            or name in TENANT_FREE_ROUTES
            or name.startswith(tuple(TENANT_FREE_PREFIXES))
        ):
            missing.append(f"{name} ({route})")
    return missing


def _refused(response) -> bool:
    if response.status_code == 404:
        return True
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


def cross_tenant_problems(client, *, a, b, routes=None) -> list[str]:
    """As whoever `client` is logged in as (a member or staff of A), try B's objects.

    Each route is tried with B's slug and B's ids, and — where it takes ids —
    with A's slug and B's ids; GET and POST (the body carrying B's ids too).
    Every answer must be 404 or the login redirect, and B's rows unchanged.
    """
    routes = TENANT_ROUTES if routes is None else routes
    problems = []
    before = tenant_rows(b.alliance)
    for name, route in routes.items():
        b_ids = route.ids(b)
        slugs = [b.alliance.slug] + ([a.alliance.slug] if b_ids else [])
        body = {**route.post_fields, **{k: str(v) for k, v in b_ids.items()}}
        for slug in slugs:
            url = reverse(name, kwargs={"alliance_slug": slug, **b_ids})
            for method in ("get", "post"):
                response = getattr(client, method)(url, body if method == "post" else None)
                if not _refused(response):
                    problems.append(f"{method.upper()} {url} answered {response.status_code}")
    if tenant_rows(b.alliance) != before:
        problems.append(f"{b.alliance.slug}'s rows changed")
    return problems
