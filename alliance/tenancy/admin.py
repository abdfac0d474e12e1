"""TenantAdmin: confines the Django admin to the staff user's alliances.

Admin requests run inside `scope(alliance=[the staff user's alliances])`
(TenantScopeMiddleware), so every ScopedManager query — changelists,
foreign-key choices, list-filter choices, autocomplete — is already narrowed.
This mixin covers what scopes cannot see: the unscoped Alliance and User
models, and the `alliance` field itself.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.db import models

from alliance.models import Alliance


class TenantAdmin:
    #: Path from the model to its Alliance, for models that hang from a parent.
    alliance_path = "alliance"
    # A website typed without a scheme is https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def allowed_alliances(self, request):
        if request.user.is_superuser:
            return Alliance.objects.all()
        return Alliance.objects.filter(pk__in=getattr(request, "staff_alliance_ids", []))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.alliance_path}__in": self.allowed_alliances(request)})

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        # Alliance names are not for other alliances' staff; superusers filter by it.
        if request.user.is_superuser and self.alliance_path == "alliance":
            return ["alliance", *[f for f in filters if f != "alliance"]]
        return [f for f in filters if f != "alliance"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Alliance:
            allowed = self.allowed_alliances(request)
            kwargs["queryset"] = allowed
            if not request.user.is_superuser and len(allowed) == 1:
                # One alliance: fixed, but still validated against the queryset.
                kwargs["widget"] = forms.HiddenInput
                kwargs["initial"] = allowed[0].pk
        elif related is get_user_model() and not request.user.is_superuser:
            kwargs["queryset"] = related.objects.filter(
                memberships__alliance__in=self.allowed_alliances(request)
            ).distinct()
        elif related._meta.label == "members.Membership":
            kwargs["queryset"] = _memberships_with_names()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Alliance:
            kwargs["queryset"] = self.allowed_alliances(request)
        elif db_field.related_model._meta.label == "members.Membership":
            kwargs["queryset"] = _memberships_with_names()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if self.alliance_path == "alliance" and obj.alliance_id is None:
            obj.alliance = self.allowed_alliances(request).get()
        super().save_model(request, obj, form, change)


def _memberships_with_names():
    # A membership's label is its person's name: load the users with the rows.
    from members.models import Membership

    return Membership.objects.select_related("user")


class SuperuserOnlyAdmin:
    """For global rows (alliances, users): visible and editable by superusers only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
