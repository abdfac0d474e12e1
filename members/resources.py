"""Staff import and export of organizations and members (django-import-export).

Every resource is built for ONE alliance (`alliance=` in the constructor): it
looks rows up, creates them and exports them in that alliance only. The admin
(`AllianceImportExportMixin`, used after `TenantAdmin`) decides which alliance:
the staff user's only one, or the one they choose among those they manage,
validated again when the import is confirmed.

An import is all or nothing: django-import-export previews it in a transaction
that is rolled back, offers "Confirm import" only when no row has an error, and
the confirmed import runs in one transaction that is rolled back if any row
fails after all. Every row error names its line and what is wrong with it.
"""

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.html import escape
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm
from import_export.resources import ModelResource
from import_export.widgets import Widget

from alliance.models import Alliance

from .models import Membership, Organization, Role
from .services import member_import_upsert

logger = logging.getLogger(__name__)

EMAIL_MAX_LENGTH = 254  # User.email (EmailField)
FULL_NAME_MAX_LENGTH = 200  # User.full_name


# Cells
# ------------------------------------------------------------------------------


def _cell(value) -> str:
    """A cell as stripped text (CSV cells are text; other formats may not be)."""
    return "" if value is None else force_str(value).strip()


class TextWidget(Widget):
    """Stripped text; a NUL character is refused (databases refuse it too)."""

    def clean(self, value, row=None, **kwargs):
        text = _cell(value)
        if "\x00" in text:
            raise ValueError("contains a NUL character")
        return text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else force_str(value)


class WebsiteWidget(TextWidget):
    """A website typed without a scheme is https, as in the admin's forms."""

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        if text and "://" not in text:
            text = f"https://{text}"
        return text


class ChoiceWidget(Widget):
    """A choice by its value or its label, case-insensitive; exported as the label."""

    def __init__(self, choices, column: str, *, required: bool = False):
        super().__init__()
        self.column, self.required = column, required
        self.labels = {value: str(label) for value, label in choices}
        self.values = {}
        for value, label in self.labels.items():
            self.values[value.lower()] = value
            self.values[label.lower()] = value

    def clean(self, value, row=None, **kwargs):
        text = _cell(value)
        if not text:
            if self.required:
                raise ValueError(f"{self.column} is empty: use one of {self._listed()}")
            return None  # the field keeps its current (or default) value
        try:
            return self.values[text.lower()]
        except KeyError:
            raise ValueError(
                f"unknown {self.column} '{text}': use one of {self._listed()}"
            ) from None

    def render(self, value, obj=None, **kwargs):
        return self.labels.get(value, value or "")

    def _listed(self) -> str:
        return ", ".join(self.labels.values())


class YesNoWidget(Widget):
    """yes/no, true/false, 1/0 (any case); empty keeps the current (or default) value."""

    TRUE = frozenset({"yes", "y", "true", "1"})
    FALSE = frozenset({"no", "n", "false", "0"})

    def __init__(self, column: str):
        super().__init__()
        self.column = column

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _cell(value).lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"{self.column} must be yes or no, not '{_cell(value)}'")

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ("yes" if value else "no")


def organization_named(alliance: Alliance | None, name: str) -> Organization | None:
    """The alliance's organization of that name: exact, else the only case-insensitive match."""
    if alliance is None or not name or "\x00" in name:
        return None
    # Filtered by the import's alliance explicitly: a staff user of several
    # alliances has all of them in scope, and must reach only this one's rows.
    organizations = Organization.objects.filter(alliance=alliance)
    exact = organizations.filter(name=name).first()
    if exact is not None:
        return exact
    matches = list(organizations.filter(name__iexact=name)[:2])
    return matches[0] if len(matches) == 1 else None


class OrganizationNameWidget(Widget):
    """An organization of the import's alliance, by name."""

    def __init__(self, alliance: Alliance | None = None):
        super().__init__()
        self.alliance = alliance
        self._found: dict[str, Organization | None] = {}

    def clean(self, value, row=None, **kwargs):
        name = _cell(value)
        if not name:
            return None
        if name not in self._found:
            self._found[name] = organization_named(self.alliance, name)
        if self._found[name] is None:
            raise ValueError(f"no organization named '{name}' in this alliance")
        return self._found[name]

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.name


# Resources
# ------------------------------------------------------------------------------


def _numbered(error: ValidationError, line) -> ValidationError:
    """The row's errors, each starting "Line N:" and naming its column."""

    def message(key, text):
        # A message that names its column already ("no organization named …")
        # stands alone; Django's generic ones ("Enter a valid URL.") get it.
        if key == NON_FIELD_ERRORS or key.lower() in text.lower():
            return f"Line {line}: {text}"
        return f"Line {line}: {key}: {text}"

    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                key: [message(key, text) for text in texts]
                for key, texts in error.message_dict.items()
            }
        )
    return ValidationError([message(NON_FIELD_ERRORS, text) for text in error.messages])


class AllianceResource(ModelResource):
    """A resource whose every row belongs to the one alliance it was built for."""

    #: Columns a file must have.
    required_columns: tuple[str, ...] = ()
    #: Added to import-export's row number (1 = the first data row) in "Line N".
    line_offset = 0

    def __init__(self, *, alliance: Alliance | None = None, **kwargs):
        # The admin builds a resource without an alliance only to list its
        # columns (the import page before an alliance is chosen); importing
        # with it raises.
        super().__init__(**kwargs)
        self.alliance = alliance
        self._column_problem: str | None = None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls._meta.fields)

    def get_queryset(self):
        manager = self._meta.model.objects
        if self.alliance is None:
            return manager.none()
        return manager.filter(alliance=self.alliance)

    def import_data(self, dataset, **kwargs):
        if self.alliance is None:
            raise ImproperlyConfigured("An import needs the alliance it is for.")
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset, **kwargs):
        # "Full name", " Role " → full_name, role.
        headers = [_cell(h).lower().replace(" ", "_") for h in dataset.headers or []]
        if dataset.headers:
            dataset.headers = headers
        columns = self.columns()
        unknown = [h for h in headers if h and h not in columns]
        missing = [c for c in self.required_columns if c not in headers]
        problems = []
        if missing:
            problems.append("the file has no " + ", ".join(f"'{c}'" for c in missing) + " column")
        if unknown:
            problems.append("unknown column " + ", ".join(f"'{h}'" for h in unknown))
        if problems:
            listed = ", ".join(columns)
            self._column_problem = f"{'; '.join(problems)} (the columns are: {listed})"

    def before_import_row(self, row, **kwargs):
        if self._column_problem:
            raise ValidationError(self._column_problem)

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        if row_result.validation_error is not None:
            row_result.validation_error = _numbered(
                row_result.validation_error, kwargs.get("row_number", 0) + self.line_offset
            )
        return row_result

    def filter_export(self, queryset, **kwargs):
        queryset = super().filter_export(queryset, **kwargs)
        if self.alliance is not None:
            queryset = queryset.filter(alliance=self.alliance)
        return queryset


class OrganizationResource(AllianceResource):
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    kind = Field(
        attribute="kind",
        column_name="kind",
        widget=ChoiceWidget(Organization.Kind.choices, "kind"),
        saves_null_values=False,
    )
    city = Field(attribute="city", column_name="city", widget=TextWidget())
    region = Field(attribute="region", column_name="region", widget=TextWidget())
    website = Field(attribute="website", column_name="website", widget=WebsiteWidget())
    is_active = Field(
        attribute="is_active",
        column_name="is_active",
        widget=YesNoWidget("is_active"),
        saves_null_values=False,
    )

    required_columns = ("name",)
    import_help = (
        "A CSV file with a header row. Columns: name (required; a row whose name "
        "matches an organization of this alliance updates it), kind ("
        + ", ".join(Organization.Kind.labels)
        + "), city, region, website, is_active (yes or no)."
    )

    class Meta:
        model = Organization
        fields = ("name", "kind", "city", "region", "website", "is_active")
        clean_model_instances = True

    def get_instance(self, instance_loader, row):
        return organization_named(self.alliance, _cell(row.get("name")))

    def init_instance(self, row=None):
        return Organization(alliance=self.alliance)


class MembershipResource(AllianceResource):
    # The person: looked up (or created) by email when the row is saved.
    email = Field(attribute="user__email", column_name="email", readonly=True)
    full_name = Field(attribute="user__full_name", column_name="full_name", readonly=True)
    organization = Field(
        attribute="organization", column_name="organization", widget=OrganizationNameWidget()
    )
    role = Field(
        attribute="role",
        column_name="role",
        widget=ChoiceWidget(Role.choices, "role", required=True),
    )
    title = Field(attribute="title", column_name="title", widget=TextWidget())
    is_primary_contact = Field(
        attribute="is_primary_contact",
        column_name="is_primary_contact",
        widget=YesNoWidget("is_primary_contact"),
        saves_null_values=False,
    )

    required_columns = ("email", "full_name", "role")
    import_help = (
        "A CSV file with a header row. Columns: email (required; a row whose email "
        "is already a member of this alliance updates that membership), full_name "
        "(required), organization (the name of one of this alliance's organizations; "
        "empty only for alliance staff), role ("
        + ", ".join(Role.labels)
        + "), title, is_primary_contact (yes or no). New people get no password: "
        "they sign in through “Forgot your password?”."
    )

    class Meta:
        model = Membership
        fields = ("email", "full_name", "organization", "role", "title", "is_primary_contact")
        clean_model_instances = True

    def __init__(self, *, alliance: Alliance | None = None, **kwargs):
        super().__init__(alliance=alliance, **kwargs)
        self.fields["organization"].widget = OrganizationNameWidget(alliance)

    def get_instance(self, instance_loader, row):
        email = _cell(row.get("email")).lower()
        if self.alliance is None or not email or "\x00" in email:
            return None
        return (
            Membership.objects.select_related("user", "organization")
            .filter(alliance=self.alliance, user__email__iexact=email)
            .first()
        )

    def init_instance(self, row=None):
        return Membership(alliance=self.alliance)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        email, full_name = _cell(row.get("email")).lower(), _cell(row.get("full_name"))
        if problem := _email_problem(email):
            errors["email"] = problem
        if not full_name:
            errors["full_name"] = "full_name is empty"
        elif len(full_name) > FULL_NAME_MAX_LENGTH:
            errors["full_name"] = (
                f"full_name is longer than {FULL_NAME_MAX_LENGTH} characters "
                f"(it has {len(full_name)})"
            )
        elif "\x00" in full_name:
            errors["full_name"] = "full_name contains a NUL character"
        if (
            not {"role", "organization"} & errors.keys()
            and instance.role != Role.ALLIANCE_STAFF
            and instance.organization_id is None
        ):
            errors["organization"] = (
                f"organization is empty, but a member with role '{instance.get_role_display()}' "
                "belongs to one (only alliance staff may have none)"
            )
        instance._import_person = (email, full_name)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            # The user is found or created when the row is saved
            # (member_import_upsert), which also checks (user, alliance).
            instance.full_clean(exclude=[*errors, "user"], validate_unique=False)
        except ValidationError as error:
            # Membership.clean() repeats what the row's own checks said about
            # the organization; one message per column is enough.
            for key, texts in error.message_dict.items():
                errors.setdefault(key, texts)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance, is_create):
        email, full_name = instance._import_person
        membership = member_import_upsert(
            alliance=self.alliance,
            email=email,
            full_name=full_name,
            role=instance.role,
            organization=instance.organization,
            title=instance.title,
            is_primary_contact=instance.is_primary_contact,
        )
        # The preview, the admin log and the result read the row's instance.
        instance.pk = membership.pk
        instance.user = membership.user
        instance.joined_at = membership.joined_at
        instance.is_active = membership.is_active
        instance._state.adding = False

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("user", "organization")


def _email_problem(email: str) -> str | None:
    if not email:
        return "email is empty"
    if len(email) > EMAIL_MAX_LENGTH:
        return f"email is longer than {EMAIL_MAX_LENGTH} characters (it has {len(email)})"
    try:
        validate_email(email)
    except ValidationError:
        return f"invalid email address '{email}'"
    return None


# Admin
# ------------------------------------------------------------------------------


def _alliance_field() -> forms.ModelChoiceField:
    # The queryset is set per request: the alliances the staff user manages.
    return forms.ModelChoiceField(
        queryset=Alliance.objects.none(),
        help_text="The alliance whose rows this file creates or updates.",
    )


def _limit_alliances(form: forms.Form, alliances) -> None:
    if alliances is None:
        del form.fields["alliance"]  # the staff user's only alliance: no choice
    else:
        form.fields["alliance"].queryset = alliances


class AllianceImportForm(ImportForm):
    alliance = _alliance_field()
    field_order = ["resource", "alliance", "import_file", "format"]

    def __init__(self, formats, resources, *, alliances=None, **kwargs):
        super().__init__(formats, resources, **kwargs)
        _limit_alliances(self, alliances)


class AllianceConfirmImportForm(ConfirmImportForm):
    # Validated again on confirm: a tampered id is not a valid choice.
    alliance = _alliance_field()

    def __init__(self, *args, alliances=None, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_alliances(self, alliances)
        if "alliance" in self.fields:
            self.fields["alliance"].widget = forms.HiddenInput()


class AllianceImportExportMixin(ImportExportMixin):
    """Import and export for a `TenantAdmin` (list it after TenantAdmin in the bases).

    Uses TenantAdmin's `allowed_alliances()`. An import writes to one alliance:
    the staff user's only one, else the one chosen on the import form among
    `allowed_alliances()` (all for a superuser) and checked again on confirm.
    An export holds the changelist's rows, which TenantAdmin limits to the
    staff user's alliances.
    """

    import_form_class = AllianceImportForm
    confirm_form_class = AllianceConfirmImportForm
    # The selectable-fields export form needs an inline onchange handler, which
    # the CSP (no unsafe-inline) blocks: export every column.
    export_form_class = ExportForm
    import_formats = [base_formats.CSV]
    export_formats = [base_formats.CSV]

    # Permissions: importing creates and changes rows; exporting shows them.

    def has_import_permission(self, request):
        if not request.user.is_superuser and not getattr(request, "staff_alliance_ids", None):
            return False
        return (
            super().has_import_permission(request)
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def has_export_permission(self, request):
        return super().has_export_permission(request) and self.has_view_permission(request)

    # The alliance of an import.

    def alliance_choices(self, request):
        """None when the staff user manages exactly one alliance; else the choices."""
        if not request.user.is_superuser and len(getattr(request, "staff_alliance_ids", [])) == 1:
            return None
        return self.allowed_alliances(request)

    def import_alliance(self, request, form=None) -> Alliance | None:
        if form is not None and "alliance" in form.fields:
            # Cleaned, so one of alliance_choices(); None until chosen.
            return (getattr(form, "cleaned_data", None) or {}).get("alliance")
        if self.alliance_choices(request) is None:
            return self.only_alliance(request)
        return None

    def only_alliance(self, request) -> Alliance:
        """The one alliance a staff user with no choice manages (once per request)."""
        if not hasattr(request, "_only_staff_alliance"):
            request._only_staff_alliance = self.allowed_alliances(request).get()
        return request._only_staff_alliance

    def get_import_form_kwargs(self, request):
        return {
            **super().get_import_form_kwargs(request),
            "alliances": self.alliance_choices(request),
        }

    def create_import_form(self, request):
        form = super().create_import_form(request)
        texts = [getattr(r, "import_help", "") for r in self.get_import_resource_classes(request)]
        if "alliance" not in form.fields:
            texts.insert(0, f"Rows are created and updated in {self.import_alliance(request)}.")
        # The import template renders help text unescaped.
        form.fields["import_file"].help_text = escape(" ".join(filter(None, texts)))
        return form

    def get_confirm_form_kwargs(self, request, import_form=None):
        return {
            **super().get_confirm_form_kwargs(request, import_form),
            "alliances": self.alliance_choices(request),
        }

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None and "alliance" in import_form.fields:
            initial["alliance"] = import_form.cleaned_data["alliance"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        alliance = self.import_alliance(request, kwargs.get("form"))
        request._import_alliance = alliance  # for the log line (process_result)
        return {"alliance": alliance}

    def get_export_resource_kwargs(self, request, **kwargs):
        # One alliance: the resource narrows to it too. Several: the
        # changelist's queryset (TenantAdmin, and the request's scope) does.
        choices = self.alliance_choices(request)
        return {"alliance": self.only_alliance(request) if choices is None else None}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        # All or nothing, also if a row turns invalid between preview and confirm.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    # Every confirmed import and every export is logged: who, which alliance, how many.
    # (A saved import also leaves one admin LogEntry per row, by django-import-export.)

    def _log_import(self, result, request, outcome: str) -> None:
        alliance = getattr(request, "_import_alliance", None)
        logger.info(
            "admin import %s %s: user=%s alliance=%s rows=%d new=%d updated=%d "
            "skipped=%d invalid=%d errors=%d",
            self.model._meta.label,
            outcome,
            request.user.pk,
            alliance.slug if alliance else "-",
            result.total_rows,
            result.totals.get("new", 0),
            result.totals.get("update", 0),
            result.totals.get("skip", 0),
            len(result.invalid_rows),
            len(result.row_errors()) + len(result.base_errors),
        )

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        alliance = self.get_export_resource_kwargs(request, **kwargs)["alliance"]
        # Several alliances: the changelist's rows, within the user's alliances.
        scope_ids = (
            "all" if request.user.is_superuser else getattr(request, "staff_alliance_ids", [])
        )
        logger.info(
            "admin export %s: user=%s alliance=%s rows=%d",
            self.model._meta.label,
            request.user.pk,
            alliance.slug if alliance else f"{scope_ids}",
            len(data),
        )
        return data

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            self._log_import(result, request, "refused")
            # The transaction was rolled back: say so instead of "Import finished".
            problems = [
                text
                for row in result.invalid_rows
                for texts in row.error_dict.values()
                for text in texts
            ]
            problems += [
                f"Line {line}: {error.error}"
                for line, errors in result.row_errors()
                for error in errors
            ]
            problems += [str(error.error) for error in result.base_errors]
            shown = "; ".join(problems[:5]) + (" …" if len(problems) > 5 else "")
            messages.error(request, f"Nothing was imported. {shown}")
            app_label, model_name = self.get_model_info()
            return HttpResponseRedirect(reverse(f"admin:{app_label}_{model_name}_import"))
        self._log_import(result, request, "saved")
        return super().process_result(result, request)
