"""The one-click unsubscribe page (RFC 8058): tenant-free, the signed token is the key.

A mail client POSTs `List-Unsubscribe=One-Click` to the link with no cookie,
no session and no CSRF token, so this one view is csrf_exempt: the token
(signed, naming one membership in one alliance) is what authorizes the change.
A GET, which link scanners and prefetchers send, only shows a button that POSTs.
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from .notifications import unsubscribe as unsubscribing


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    found = unsubscribing.membership_from_token(token)
    if found is None:
        return _private(render(request, "alliance/unsubscribe_invalid.html", status=404))
    membership, what = found
    alliance = membership.alliance
    # The signed alliance chooses the scope, as for the calendar feed.
    with scope(alliance=alliance):
        done = request.method == "POST"
        already_off = unsubscribing.is_already_off(membership, what)
        if done:
            unsubscribing.unsubscribe_apply(membership=membership, what=what)
        response = render(
            request,
            "alliance/unsubscribe_done.html" if done else "alliance/unsubscribe.html",
            {
                # Not "alliance": that would draw the member's tenant navigation.
                "sender": alliance,
                "what": what,
                "what_label": unsubscribing.WHAT[what],
                # Only the first name: whoever holds a forwarded email sees this page.
                "first_name": (membership.user.full_name.split() or [""])[0],
                "already_off": already_off,
                "preferences_path": reverse("members:preferences", args=[alliance.slug]),
            },
        )
    return _private(response)


def _private(response):
    # The URL is a credential: never cached by a proxy, never indexed, never
    # sent on as a Referer.
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
