"""Resolve the alliance of a request and run the whole response inside its scope.

Every tenant URL is `/<alliance_slug>/…`. This middleware resolves the URL
itself (Django only resolves after middleware), so that the view *and* the
template render happen inside `scope(alliance=…)`: a query on a tenant model
outside a scope raises instead of leaking.
"""

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance import pagecache

from .permissions import own_memberships, staff_alliance_ids

TENANT_URL_KWARG = "alliance_slug"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def early_resolve(request):
    """The URL match, computed once per request before the view runs."""
    if not hasattr(request, "_early_match"):
        try:
            request._early_match = resolve(request.path_info)
        except Resolver404:
            request._early_match = None
    return request._early_match


class TenantScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.alliance = None
        request.membership = None
        match = early_resolve(request)
        if match is None:
            return self.get_response(request)
        if TENANT_URL_KWARG in match.kwargs:
            return self._tenant_response(request, match.kwargs[TENANT_URL_KWARG])
        if match.namespace == "admin" and request.user.is_authenticated:
            return self._admin_response(request)
        return self.get_response(request)

    def _tenant_response(self, request, slug):
        if not request.user.is_authenticated:
            # Anonymous visitors learn nothing about which slugs exist.
            return redirect_to_login(request.get_full_path())
        # One query loads the user's own active memberships in all alliances: the
        # nav's switcher and, by slug, this alliance's membership. Not among them
        # means unknown or not a member: the same 404 either way.
        memberships = own_memberships(request.user, kept=True)
        request.user_alliances = [m.alliance for m in memberships]
        membership = next((m for m in memberships if m.alliance.slug == slug), None)
        if membership is None:
            raise Http404("No such alliance.")
        alliance = membership.alliance
        # Dates render in the member's zone, else the alliance's (pages about one
        # event override this with the event's own zone).
        zone = zoneinfo.ZoneInfo(request.user.time_zone or alliance.time_zone)
        with scope(alliance=alliance), timezone.override(zone):
            request.alliance = alliance
            request.membership = membership
            response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            # Whatever the request changed, by signal or not, no cached page shows it.
            pagecache.bump([alliance.pk])
        return response

    def _admin_response(self, request):
        if request.user.is_superuser:
            # Reviewed unscoped site (docs/tenancy.md): superusers see every alliance.
            with scopes_disabled():
                response = self.get_response(request)
            from alliance.models import Alliance

            changed = Alliance.objects.values_list("pk", flat=True)
        else:
            request.staff_alliance_ids = staff_alliance_ids(request.user)
            with scope(alliance=request.staff_alliance_ids):
                response = self.get_response(request)
            changed = request.staff_alliance_ids
        if request.method not in SAFE_METHODS:
            # Admin deletions and bulk actions send no save signal.
            pagecache.bump(changed)
        return response


SIGNED_IN_AT = "signed_in_at"  # set at sign-in by members.sessions


class SessionAgeMiddleware:
    """Every session ends SESSION_COOKIE_AGE (12 hours) after sign-in, and a
    staff session also after STAFF_IDLE_MINUTES without a request.

    The absolute age is checked here rather than left to the session's expiry:
    Django (and allauth's "remember me") count that from the last time the
    session was saved, so any write would extend it. Staff activity is written
    to the session at most once a minute, not on every request.
    """

    STAFF_LAST_ACTIVE = "staff_last_active"
    RECORD_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            now = int(timezone.now().timestamp())
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            if now - signed_in_at > settings.SESSION_COOKIE_AGE:
                hours = settings.SESSION_COOKIE_AGE // 3600
                return self._sign_out(request, f"{hours} hours after you signed in")
            if user.is_staff:
                last = request.session.get(self.STAFF_LAST_ACTIVE)
                if last is not None and now - last > settings.STAFF_IDLE_MINUTES * 60:
                    idle = settings.STAFF_IDLE_MINUTES
                    return self._sign_out(request, f"after {idle} minutes without activity")
                if last is None or now - last >= self.RECORD_EVERY_SECONDS:
                    request.session[self.STAFF_LAST_ACTIVE] = now
        return self.get_response(request)

    @staticmethod
    def _sign_out(request, when: str):
        logout(request)
        messages.info(request, f"You were signed out {when}. Sign in again to continue.")
        return redirect_to_login(request.get_full_path())


class StaffMFARequiredMiddleware:
    """Staff without a TOTP authenticator are sent to set one up first."""

    # The pages a staff user needs to set up MFA (or leave) stay reachable.
    EXEMPT_URL_NAME_PREFIXES = ("account_", "mfa_")
    EXEMPT_URL_NAMES = {"healthz"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_set_up_mfa(request):
            messages.warning(
                request, "Staff accounts need two-factor authentication. Set it up to continue."
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_set_up_mfa(self, request) -> bool:
        user = request.user
        if not (settings.ALLIANCE_REQUIRE_STAFF_MFA and user.is_authenticated and user.is_staff):
            return False
        match = early_resolve(request)
        if match is not None and (
            (match.url_name or "").startswith(self.EXEMPT_URL_NAME_PREFIXES)
            or match.url_name in self.EXEMPT_URL_NAMES
        ):
            return False
        from allauth.mfa.models import Authenticator

        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
