"""Meetings in the admin: every change registrants must hear of goes through a service.

* Status is read-only: postpone, move to virtual and cancel are actions that call
  the services (a MeetingChange row, SEQUENCE raised, the original date kept).
* A new start or end typed into an existing meeting's form is saved by
  `meeting_postpone` with the new date: a reschedule, recorded like the actions.
  A cancelled or completed meeting's dates are read-only.
* The format is read-only once someone registered ("Move to virtual" also moves
  their RSVPs); the alliance is read-only once the meeting exists.
* A meeting someone registered for is never deleted: the delete view and the bulk
  delete action refuse it with a message (and the database's PROTECT stays).
* Inline rows offer and accept only the meeting's alliance's members and speakers.
"""

from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet, ModelChoiceField
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from alliance.tenancy.admin import TenantAdmin

from . import services
from .models import AgendaItem, Guest, Meeting, MeetingChange, Registration

OTHER_ALLIANCE = "Choose one of this meeting's alliance's."
RESCHEDULE_NOTE = "Rescheduled in the admin."


def _has_alliance(model) -> bool:
    return any(field.name == "alliance" for field in model._meta.concrete_fields)


def _plausible_id(value) -> bool:
    # A row id as posted: digits that fit a 64-bit integer (the database refuses more).
    text = str(value)
    return text.isdigit() and len(text) <= 18


class SafeAutocompleteSelect(AutocompleteSelect):
    """Re-showing a refused form with a malformed id leaves the choice empty, no error."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if _plausible_id(v)], attr)


class SafeAutocomplete:
    """Autocomplete fields with SafeAutocompleteSelect (Django's fails on a malformed id)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def deletion_refusal(meeting: Meeting) -> str | None:
    """Why the meeting may not be deleted, in words; None when it may."""
    try:
        services.meeting_check_deletable(meeting=meeting)
    except ValidationError as error:
        return error.messages[0]
    return None


class _PostedRows:
    """One field's posted values in every row of a formset, looked up in one query."""

    def __init__(self, formset, name, queryset):
        self.formset, self.name, self.queryset, self.rows = formset, name, queryset, None

    def get(self, value):
        if self.rows is None:
            if self.name == self.formset._pk_field.name:
                # The rows' own ids: the formset has loaded these rows already.
                found = self.formset.get_queryset()
            else:
                keys = {
                    str(self.formset.data.get(f"{self.formset.add_prefix(i)}-{self.name}", ""))
                    for i in range(self.formset.total_form_count())
                }
                found = self.queryset.filter(pk__in=[k for k in keys if _plausible_id(k)])
            self.rows = {str(row.pk): row for row in found}
        return self.rows.get(str(value))


class PostedRowsChoiceField(ModelChoiceField):
    """Finds its value among the formset's posted rows: one query per column, not per row."""

    posted: _PostedRows

    def to_python(self, value):
        if value not in self.empty_values:
            row = self.posted.get(value)
            if row is not None:
                return row
        return super().to_python(value)  # not among them: Django's own lookup and errors


class MeetingRowsFormSet(BaseInlineFormSet):
    """A meeting's inline rows: foreign keys are the meeting's alliance's rows only."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Unknown on a new meeting's empty form: the staff user's scope applies, and
        # clean() checks again once the meeting's alliance is known.
        alliance_id = self.instance.alliance_id
        posted = self.__dict__.setdefault("_posted", {})
        for name, field in form.fields.items():
            if not isinstance(field, ModelChoiceField):
                continue
            if alliance_id is not None and _has_alliance(field.queryset.model):
                field.queryset = field.queryset.filter(alliance_id=alliance_id)
            if type(field) is ModelChoiceField:  # each row's id, and plain foreign keys
                # Same field, batched lookup (the row id field has no constructor to reuse).
                field.__class__ = PostedRowsChoiceField
                if name not in posted:
                    posted[name] = _PostedRows(self, name, field.queryset)
                field.posted = posted[name]

    def clean(self):
        super().clean()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or self._should_delete_form(form):
                continue
            for name, value in list(form.cleaned_data.items()):
                if (
                    isinstance(value, models.Model)
                    and _has_alliance(type(value))
                    and value.alliance_id != self.instance.alliance_id
                ):
                    form.add_error(name, OTHER_ALLIANCE)

    def save_new(self, form, commit=True):
        if _has_alliance(form.instance._meta.model):
            form.instance.alliance_id = self.instance.alliance_id
        return super().save_new(form, commit=commit)


class MeetingRowsInline(TenantAdmin, SafeAutocomplete):
    alliance_path = "meeting__alliance"
    formset = MeetingRowsFormSet
    extra = 0


class AgendaItemInline(MeetingRowsInline, admin.TabularInline):
    model = AgendaItem
    fields = [
        "order",
        "starts_at",
        "duration_minutes",
        "title",
        "kind",
        "audience",
        "presenter_member",
        "presenter_speaker",
        "materials_url",
    ]
    autocomplete_fields = ["presenter_member", "presenter_speaker"]


class GuestInline(MeetingRowsInline, admin.TabularInline):
    model = Guest
    fields = ["speaker", "joins_dinner"]
    autocomplete_fields = ["speaker"]
    verbose_name = "featured guest"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("speaker", "meeting")


class RegistrationInline(MeetingRowsInline, admin.TabularInline):
    """Who registered: their answer and attendance; the person stays fixed."""

    alliance_path = "alliance"
    model = Registration
    fields = ["membership", "response", "attended", "responded_at"]
    readonly_fields = ["membership", "responded_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership__user", "meeting")

    def has_add_permission(self, request, obj=None):
        return False  # NewRegistrationInline


class NewRegistrationInline(MeetingRowsInline, admin.TabularInline):
    """Register members on their behalf (e.g. after the fact, to record attendance)."""

    alliance_path = "alliance"
    model = Registration
    fields = ["membership", "response", "attended"]
    autocomplete_fields = ["membership"]
    can_delete = False
    verbose_name_plural = "register members"

    def get_queryset(self, request):
        return super().get_queryset(request).none()  # only new rows: RegistrationInline


class MeetingChangeInline(MeetingRowsInline, admin.TabularInline):
    """Written by the services: shown, never added, edited or deleted here."""

    alliance_path = "alliance"
    model = MeetingChange
    fields = ["kind", "old_starts_at", "new_starts_at", "note", "changed_by", "changed_at"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "changes (postponed, moved, cancelled)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by", "meeting")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["title", "kind", "format", "status", "starts_at", "host_organization"]
    list_filter = ["kind", "format", "status", "program_year"]
    list_select_related = ["host_organization"]
    search_fields = ["title"]
    date_hierarchy = "starts_at"
    inlines = [
        AgendaItemInline,
        GuestInline,
        RegistrationInline,
        NewRegistrationInline,
        MeetingChangeInline,
    ]
    actions = [
        "postpone",
        "move_virtual",
        "cancel",
        "record_attendance",
        "standard_agenda",
        "delete_selected",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "alliance",
                    "program_year",
                    "title",
                    "kind",
                    "format",
                    "status",
                    "workgroup",
                    "host_organization",
                ]
            },
        ),
        ("When", {"fields": ["starts_at", "ends_at", "original_starts_at", "time_zone"]}),
        ("Where", {"fields": ["venue", "address", "join_url", "capacity"]}),
        ("Who", {"fields": ["audience", "substitutes_allowed"]}),
        ("Dinner and discussion", {"fields": ["dinner_at", "dinner_place", "discussion_topic"]}),
        (None, {"fields": ["description"]}),
        ("Calendar", {"fields": ["uid", "sequence"], "classes": ["collapse"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = ["status", "original_starts_at", "uid", "sequence"]
        if obj is None:
            return fields
        fields.append("alliance")
        if obj.status in (Meeting.Status.CANCELLED, Meeting.Status.COMPLETED):
            fields += ["starts_at", "ends_at"]
        if self._has_registrations(obj):
            fields.append("format")
        return fields

    @staticmethod
    def _has_registrations(meeting) -> bool:
        # Asked several times while one form is built: once per request.
        if not hasattr(meeting, "_admin_has_registrations"):
            meeting._admin_has_registrations = meeting.registrations.exists()
        return meeting._admin_has_registrations

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class MeetingForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if cleaned.get("ends_at") and not cleaned.get("starts_at"):
                    self.add_error("starts_at", "A meeting with an end needs a start.")
                return cleaned

        return MeetingForm

    def save_model(self, request, obj, form, change):
        moved = change and {"starts_at", "ends_at"} & set(form.changed_data)
        if not moved:
            super().save_model(request, obj, form, change)
            return
        # The other fields as typed; the new dates through the service, recorded.
        starts_at, ends_at = obj.starts_at, obj.ends_at
        obj.starts_at, obj.ends_at = form.initial["starts_at"], form.initial["ends_at"]
        super().save_model(request, obj, form, change)
        meeting = services.meeting_postpone(
            meeting=obj, by=request.user, starts_at=starts_at, ends_at=ends_at, note=RESCHEDULE_NOTE
        )
        for name in ("starts_at", "ends_at", "original_starts_at", "status", "sequence"):
            setattr(obj, name, getattr(meeting, name))
        when = "until further notice" if meeting.starts_at is None else "to the new date"
        self.message_user(
            request, f"“{meeting}” rescheduled {when}, recorded as a change.", messages.INFO
        )

    # Actions: each calls a service and reports per meeting.

    def _act(self, request, queryset, service, done, skip=None):
        for meeting in queryset:
            reason = skip(meeting) if skip else None
            if reason:
                self.message_user(request, f"“{meeting}” {reason}", messages.WARNING)
                continue
            try:
                service(meeting=meeting, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"“{meeting}”: {error.messages[0]}", messages.WARNING)
            else:
                self.message_user(request, f"“{meeting}” {done}.", messages.SUCCESS)

    @admin.action(
        description="Add the standard community-of-practice agenda", permissions=["change"]
    )
    def standard_agenda(self, request, queryset):
        for meeting in queryset.select_related("alliance"):
            guest = meeting.guest_links.select_related("speaker").first()
            try:
                services.standard_agenda_apply(
                    meeting=meeting, guest=guest.speaker if guest else None
                )
            except ValidationError as error:
                self.message_user(request, error.messages[0], messages.WARNING)
            else:
                self.message_user(request, f"“{meeting}”: standard agenda added.", messages.SUCCESS)

    @admin.action(description="Postpone until further notice", permissions=["change"])
    def postpone(self, request, queryset):
        self._act(
            request,
            queryset,
            services.meeting_postpone,
            "postponed until further notice",
            skip=lambda m: (
                "is already postponed until further notice."
                if m.status == Meeting.Status.POSTPONED and m.starts_at is None
                else None
            ),
        )

    @admin.action(description="Move to virtual", permissions=["change"])
    def move_virtual(self, request, queryset):
        self._act(
            request,
            queryset,
            services.meeting_move_virtual,
            "moved to virtual (add the join link if it has none)",
            skip=lambda m: "is already virtual." if m.format == Meeting.Format.VIRTUAL else None,
        )

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request, queryset):
        self._act(request, queryset, services.meeting_cancel, "cancelled")

    @admin.action(description="Record attendance: all registrants attended", permissions=["change"])
    def record_attendance(self, request, queryset):
        now = timezone.now()
        for meeting in queryset:
            if (
                meeting.status not in (Meeting.Status.SCHEDULED, Meeting.Status.COMPLETED)
                or meeting.starts_at is None
                or meeting.starts_at > now
            ):
                self.message_user(
                    request, f"“{meeting}” has not taken place: no attendance.", messages.WARNING
                )
                continue
            attending = meeting.registrations.exclude(
                response=Registration.Response.NOT_ATTENDING
            ).values_list("membership_id", flat=True)
            count = services.attendance_record(meeting=meeting, attended=set(attending))
            self.message_user(
                request, f"“{meeting}”: {count} registrant(s) attended.", messages.SUCCESS
            )

    # Deleting: never a meeting someone registered for.

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or deletion_refusal(obj) is None)

    def delete_view(self, request, object_id, extra_context=None):
        meeting = self.get_object(request, unquote(object_id))
        if meeting is not None and super().has_delete_permission(request, meeting):
            refusal = deletion_refusal(meeting)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
                return HttpResponseRedirect(
                    reverse("admin:meetings_meeting_change", args=[meeting.pk])
                )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description="Delete selected meetings", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's delete action (with its confirmation page), for deletable meetings only."""
        deletable = []
        for meeting in queryset:
            refusal = deletion_refusal(meeting)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
            else:
                deletable.append(meeting.pk)
        if not deletable:
            return None
        return admin_actions.delete_selected(self, request, queryset.filter(pk__in=deletable))

    def delete_model(self, request, obj):
        services.meeting_check_deletable(meeting=obj)  # raises rather than deletes
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # Whatever calls it: a meeting registered for meanwhile is left alone.
        keep = [m.pk for m in queryset if deletion_refusal(m) is not None]
        super().delete_queryset(request, queryset.exclude(pk__in=keep))


@admin.register(Registration)
class RegistrationAdmin(TenantAdmin, SafeAutocomplete, admin.ModelAdmin):
    """RSVPs and attendance; members answer on the site, staff correct them here."""

    list_display = ["membership", "meeting", "response", "attended", "responded_at"]
    list_filter = [("meeting", admin.RelatedOnlyFieldListFilter), "response", "attended"]
    list_select_related = ["membership__user", "meeting"]
    search_fields = ["membership__user__full_name", "membership__user__email", "meeting__title"]
    autocomplete_fields = ["meeting", "membership"]
    fields = ["alliance", "meeting", "membership", "response", "attended", "responded_at"]

    def get_readonly_fields(self, request, obj=None):
        # A registration is one member at one meeting: who and where stay fixed.
        return (
            ["responded_at"]
            if obj is None
            else ["alliance", "meeting", "membership", "responded_at"]
        )

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class RegistrationForm(form_class):
            def clean(self):
                cleaned = super().clean()
                alliance = cleaned.get("alliance")
                for name in ("meeting", "membership"):
                    row = cleaned.get(name)
                    if alliance and row and row.alliance_id != alliance.pk:
                        self.add_error(name, "Choose one of this alliance's.")
                return cleaned

        return RegistrationForm
