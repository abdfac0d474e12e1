"""Plant a unique string in every text field of one alliance's rows."""

import secrets

from django.db import models
from django_scopes import scope

from members.models import User

from .snapshot import tenant_models

CANARY_PREFIX = "Canary"
# Fields whose values must keep a format (slugs, addresses, colours, zones).
_FORMATTED = (models.SlugField, models.EmailField, models.URLField)


def _canary() -> str:
    return f"{CANARY_PREFIX}{secrets.token_hex(5)}"


def _text_fields(model):
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not isinstance(f, _FORMATTED)
        and not f.choices
        and (f.max_length is None or f.max_length >= len(_canary()))
        and f.name != "password"
    ]


def _plant(queryset, model) -> set[str]:
    planted = set()
    fields = _text_fields(model)
    for pk in list(queryset.values_list("pk", flat=True)):
        values = {f.name: _canary() for f in fields}
        queryset.filter(pk=pk).update(**values)
        planted |= set(values.values())
    return planted


def plant_canaries(tenant) -> set[str]:
    """Overwrite every text field of the tenant's rows; return the strings to look for.

    Besides the planted strings, the alliance's slug and its members' email
    addresses must never appear to another alliance either.
    """
    alliance = tenant.alliance
    canaries = {alliance.slug}
    canaries |= _plant(type(alliance).objects.filter(pk=alliance.pk), type(alliance))
    with scope(alliance=alliance):
        for model in tenant_models():
            canaries |= _plant(model._default_manager.all(), model)
    only_here = User.objects.filter(memberships__alliance=alliance).exclude(
        memberships__alliance__in=type(alliance).objects.exclude(pk=alliance.pk)
    )
    canaries |= set(only_here.values_list("email", flat=True))
    canaries |= _plant(only_here, User)
    return canaries


def leaks(text: str, canaries: set[str]) -> list[str]:
    return sorted(c for c in canaries if c in text)
