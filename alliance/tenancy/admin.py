"""TenantAdmin: confines the Django admin to the staff user's alliances.

Admin requests run inside `scope(alliance=[the staff user's alliances])`
(TenantScopeMiddleware), so every ScopedManager query — changelists,
foreign-key choices, list-filter choices, autocomplete — is already narrowed.
This mixin covers what scopes cannot see: the unscoped Alliance and User
models, and the `alliance` field itself.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_model_for_model

from alliance.models import Alliance


def plausible_id(value) -> bool:
    """A row id as posted: digits that fit a 64-bit integer (the database refuses more)."""
    text = str(value)
    return text.isdigit() and len(text) <= 18


class SafeAutocompleteSelect(AutocompleteSelect):
    """Re-showing a refused form with a malformed id leaves the choice empty, no error
    (Django's widget looks the posted value up as an id and fails on "abc")."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if plausible_id(v)], attr)


class TenantAdmin:
    #: Path from the model to its Alliance, for models that hang from a parent.
    alliance_path = "alliance"
    # A website typed without a scheme is https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Rendering a changelist row costs ~1.5 ms (admin_list's per-cell work):
    # 50 rows a page, not Django's 100, halves that for large alliances.
    list_per_page = 50

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
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
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


class RefuseDeletionWithDependents:
    """Deleting a row others depend on is refused with a message saying what to do instead.

    The database's PROTECT stays the last word; this replaces Django's list of
    "protected related objects" with a reason staff can act on, in the delete view
    and the bulk delete action (list "delete_selected" in `actions`). Subclasses
    define `deletion_refusal(obj)`: the reason, or None when the row may go.
    """

    def deletion_refusal(self, obj) -> str | None:
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None):
        # No delete button on a row that cannot go; the delete page explains why.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self.deletion_refusal(obj) is None)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and super().has_delete_permission(request, obj):
            refusal = self.deletion_refusal(obj)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
                opts = self.model._meta
                return HttpResponseRedirect(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(
        description=gettext_lazy("Delete selected %(verbose_name_plural)s"),
        permissions=["delete"],
    )
    def delete_selected(self, request, queryset):
        """Django's delete action (with its confirmation page), for deletable rows only."""
        deletable = []
        for obj in queryset:
            refusal = self.deletion_refusal(obj)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
            else:
                deletable.append(obj.pk)
        if not deletable:
            return None
        return admin_actions.delete_selected(self, request, queryset.filter(pk__in=deletable))

    def delete_queryset(self, request, queryset):
        # Whatever calls it: a row that gained dependents meanwhile is left alone.
        keep = [obj.pk for obj in queryset if self.deletion_refusal(obj) is not None]
        for obj in queryset.filter(pk__in=keep):
            self.message_user(request, self.deletion_refusal(obj), messages.ERROR)
        super().delete_queryset(request, queryset.exclude(pk__in=keep))


def first_dependents(obj, relations: list[tuple[str, str]]) -> str | None:
    """The noun of the first reverse relation (name, noun) that has rows, else None."""
    for name, noun in relations:
        if getattr(obj, name).exists():
            return noun
    return None


def _memberships_with_names():
    # A membership's label is its person's name: load the users with the rows.
    from members.models import Membership

    return Membership.objects.select_related("user")


class ReadOnlyAdmin:
    """For records nobody edits (votes, change logs, the audit log): list and view only.
    List it first among the bases, so that it wins over other permission mixins."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class TenantHistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's history pages, for tenant models (docs/history.md).

    Use it in place of `admin.ModelAdmin`, after `TenantAdmin`:
    `class MeetingAdmin(TenantAdmin, TenantHistoryAdmin): ...`.

    SimpleHistoryAdmin alone would leak: its history view falls back to the
    historical rows when `get_queryset()` lacks the object (meant for deleted
    objects), and its version view looks the row up by ids only. Here both
    answer 404 unless the live object is in `get_queryset(request)`, which
    TenantAdmin narrows to the staff user's alliances: the same 404 as the change
    view, so existence is not revealed.

    Reverting to an old version is off (`history_revert_allowed`): a revert saves
    the model directly, past the services that notify registrants and bump the
    calendar SEQUENCE.
    """

    history_revert_allowed = False

    def _check_visible(self, request, object_id) -> None:
        # get_object() narrows by get_queryset() and answers None for a malformed id.
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such object.")

    def history_view(self, request, object_id, extra_context=None):
        self._check_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_visible(request, object_id)
        history_pk = get_history_model_for_model(self.model)._meta.pk
        try:
            history_pk.to_python(version_id)
        except ValidationError:
            raise Http404("No such version.") from None
        if request.method == "POST" and self.revert_disabled(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return not self.history_revert_allowed or super().revert_disabled(request, obj)
