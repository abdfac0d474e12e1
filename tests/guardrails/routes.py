"""The URL resolver, walked: the route list the guardrails are built on."""

from django.urls import URLPattern, URLResolver, get_resolver

from alliance.tenancy.middleware import TENANT_URL_KWARG


def walk(patterns=None, prefix="", namespace=None):
    """Yield (route string, url name with namespace, converters) for every URL pattern."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace])) or None
            yield from walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield route, name, entry.pattern


def tenant_routes():
    """Names of the routes under /<alliance_slug>/ (every one must be isolated)."""
    return sorted(
        {name for route, name, _ in walk() if f"<slug:{TENANT_URL_KWARG}>" in route and name}
    )
