"""Snapshots of database rows, to prove that something changed nothing."""

from django.apps import apps
from django_scopes import scope, scopes_disabled

PROJECT_APPS = {"alliance", "members", "workgroups", "meetings", "roundtables"}


def tenant_models():
    """Every model on django-scopes' ScopedManager."""
    return [m for m in apps.get_models() if hasattr(m._default_manager, "with_scope")]


def tenant_rows(alliance) -> dict:
    """Every row of every tenant model of one alliance, plus the alliance itself."""
    with scope(alliance=alliance):
        rows = {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for model in tenant_models()
        }
    rows["alliance.Alliance"] = list(type(alliance).objects.filter(pk=alliance.pk).values())
    return rows


def all_rows() -> dict:
    """Every row of every project model (and users), across alliances."""
    with scopes_disabled():  # a test looking across alliances
        return {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for model in apps.get_models()
            if model._meta.app_label in PROJECT_APPS
        }
