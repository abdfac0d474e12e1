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

import csv
import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.forms.models import BaseInlineFormSet, ModelChoiceField
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from alliance import audit
from alliance.fields import TIME_ZONE_CHOICES
from alliance.models import ProgramYear
from alliance.notifications import reminders
from alliance.tenancy.admin import (
    ReadOnlyAdmin,
    RefuseDeletionWithDependents,
    TenantAdmin,
    TenantHistoryAdmin,
    plausible_id,
)
from members.models import Organization, Speaker

from . import services
from .models import AgendaItem, Guest, Meeting, MeetingChange, Registration

OTHER_ALLIANCE = "Choose one of this meeting's alliance's."
RESCHEDULE_NOTE = "Rescheduled in the admin."


def _has_alliance(model) -> bool:
    return any(field.name == "alliance" for field in model._meta.concrete_fields)


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
                found = self.queryset.filter(pk__in=[k for k in keys if plausible_id(k)])
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


class MeetingRowsInline(TenantAdmin):
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


# CSV exports (shared with the roundtables admin)
# ------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file that hands back what is written: csv.writer then yields each line."""

    def write(self, value):
        return value


def csv_download(filename: str, header: list[str], rows: Iterable[Iterable]):
    """Stream rows as a CSV attachment; every cell guarded against formulas.

    `rows` is evaluated while streaming, after the view returned: build its
    querysets in the view (inside the admin's scope) and only iterate them here.
    """

    def lines():
        writer = csv.writer(_Echo())
        # A byte-order mark: spreadsheets then read the names' accents as UTF-8.
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    audit.record("export", detail=f"{filename} (admin CSV)")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def event_date(event) -> str:
    """An event's start in its own zone, for exports and staff pages."""
    if event.starts_at is None:
        return "postponed until further notice"
    local = event.starts_at.astimezone(zoneinfo.ZoneInfo(event.time_zone))
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}"


def _local(day: datetime.date, time: datetime.time, zone: str) -> datetime.datetime:
    return datetime.datetime.combine(day, time, tzinfo=zoneinfo.ZoneInfo(zone))


# Forms of the actions that ask before they act
# ------------------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
NOTE_HELP = "Sent to the registrants with the notice, and kept with the change."


def _note_field():
    return forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=NOTE_HELP,
    )


class PostponeForm(forms.Form):
    day = forms.DateField(
        label="New date",
        required=False,
        widget=DATE_INPUT,
        help_text="Empty: postponed until further notice (the original date is kept).",
    )
    start = forms.TimeField(
        label="New start time",
        required=False,
        widget=TIME_INPUT,
        help_text="In each meeting's own time zone.",
    )
    end = forms.TimeField(
        label="New end time",
        required=False,
        widget=TIME_INPUT,
        help_text="Empty: the meeting keeps its length.",
    )
    note = _note_field()

    def clean(self):
        cleaned = super().clean()
        day, start, end = cleaned.get("day"), cleaned.get("start"), cleaned.get("end")
        if day and not start and "start" not in self.errors:
            self.add_error("start", "Give the new start time with the new date.")
        if not day and (start or end) and "day" not in self.errors:
            self.add_error("day", "Give the new date with the new time.")
        if start and end and end <= start:
            self.add_error("end", "The end must come after the start.")
        return cleaned


class MoveVirtualForm(forms.Form):
    join_url = forms.URLField(
        label="Join link",
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text="Optional; shown to registrants only. Empty: the current link is kept.",
    )
    note = _note_field()


class CancelForm(forms.Form):
    note = _note_field()


class DuplicateForm(forms.Form):
    day = forms.DateField(label="Date of the copy", widget=DATE_INPUT)
    start = forms.TimeField(
        label="Start time", widget=TIME_INPUT, help_text="In the meeting's own time zone."
    )


class CopSessionForm(forms.Form):
    """services.cop_session_create's arguments; choices are the admin scope's rows."""

    program_year = forms.ModelChoiceField(queryset=ProgramYear.objects.none())
    host = forms.ModelChoiceField(label="Host organization", queryset=Organization.objects.none())
    day = forms.DateField(label="Date", widget=DATE_INPUT)
    start = forms.TimeField(label="Start time", widget=TIME_INPUT, initial="09:00")
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="America/New_York")
    topic = forms.CharField(
        label="Shared discussion topic",
        max_length=200,
        help_text="For example: measurement, physician engagement.",
    )
    guest = forms.ModelChoiceField(
        label="Featured guest", queryset=Speaker.objects.none(), required=False
    )
    dinner = forms.TimeField(
        label="Dinner time",
        required=False,
        widget=TIME_INPUT,
        help_text="Empty: no dinner. The guest joins the CEOs for dinner.",
    )
    dinner_place = forms.CharField(max_length=200, required=False)
    title = forms.CharField(
        max_length=200, required=False, help_text="Empty: “Community of practice at <host>”."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Evaluated inside the admin request's scope: the staff user's alliances only.
        self.fields["program_year"].queryset = ProgramYear.objects.all()
        self.fields["host"].queryset = Organization.objects.filter(is_active=True).order_by("name")
        self.fields["guest"].queryset = Speaker.objects.order_by("name")

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("program_year")
        if year is not None:
            for name in ("host", "guest"):
                row = cleaned.get(name)
                if row is not None and row.alliance_id != year.alliance_id:
                    self.add_error(name, "Choose one of the program year's alliance's.")
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        zone = data["time_zone"]
        return {
            "program_year": data["program_year"],
            "host": data["host"],
            "starts_at": _local(data["day"], data["start"], zone),
            "time_zone": zone,
            "topic": data["topic"],
            "guest": data["guest"],
            "dinner_at": _local(data["day"], data["dinner"], zone) if data["dinner"] else None,
            "dinner_place": data["dinner_place"],
            "title": data["title"],
        }


# Duplicating a meeting (in the admin: sessions/services.py is the next home for it)
# ------------------------------------------------------------------------------


def _shifted(moment, offset):
    return moment + offset if moment is not None and offset is not None else None


@transaction.atomic
def meeting_duplicate(*, meeting: Meeting, starts_at: datetime.datetime) -> Meeting:
    """A new meeting like this one at a new date: its agenda (shifted by the same
    offset) and guests, a new calendar UID at SEQUENCE 0, nobody registered."""
    base = meeting.starts_at or meeting.original_starts_at
    offset = starts_at - base if base is not None else None
    length = meeting.ends_at - meeting.starts_at if meeting.starts_at and meeting.ends_at else None
    # The program year the new date falls in, when the alliance has one.
    year = meeting.program_year
    if not year.contains(starts_at.date()):
        year = (
            ProgramYear.objects.filter(
                alliance_id=meeting.alliance_id,
                starts_on__lte=starts_at.date(),
                ends_on__gte=starts_at.date(),
            ).first()
            or year
        )
    copy = Meeting(
        alliance_id=meeting.alliance_id,
        program_year=year,
        title=meeting.title,
        kind=meeting.kind,
        format=meeting.format,
        venue=meeting.venue,
        address=meeting.address,
        host_organization_id=meeting.host_organization_id,
        dinner_at=_shifted(meeting.dinner_at, offset),
        dinner_place=meeting.dinner_place,
        discussion_topic=meeting.discussion_topic,
        audience=meeting.audience,
        substitutes_allowed=meeting.substitutes_allowed,
        capacity=meeting.capacity,
        workgroup_id=meeting.workgroup_id,
        time_zone=meeting.time_zone,
        description=meeting.description,
        starts_at=starts_at,
        ends_at=starts_at + length if length else None,
        # Not the join link: a video call's link is usually per meeting.
    )
    copy.full_clean()
    copy.save()
    for item in meeting.agenda.order_by("order", "pk"):
        AgendaItem.objects.create(
            meeting=copy,
            order=item.order,
            starts_at=_shifted(item.starts_at, offset),
            duration_minutes=item.duration_minutes,
            title=item.title,
            kind=item.kind,
            presenter_member_id=item.presenter_member_id,
            presenter_speaker_id=item.presenter_speaker_id,
            audience=item.audience,
            materials_url=item.materials_url,
        )
    for link in meeting.guest_links.all():
        Guest.objects.create(
            meeting=copy, speaker_id=link.speaker_id, joins_dinner=link.joins_dinner
        )
    return copy


@admin.register(Meeting)
class MeetingAdmin(TenantAdmin, RefuseDeletionWithDependents, TenantHistoryAdmin):
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
        "postpone_to",
        "move_virtual",
        "cancel",
        "send_reminders_now",
        "duplicate",
        "export_registrations",
        "record_attendance",
        "record_attendance_bulk",
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

    # Actions: each calls a service, reports per meeting and is logged (LogEntry).
    # Those that ask first show a page that posts back to the same action with
    # "apply"; the selection is filtered by get_queryset again, so another
    # alliance's ids in the post select nothing.

    def _act(self, request, meetings, service, done, skip=None, **arguments):
        for meeting in meetings:
            reason = skip(meeting) if skip else None
            if reason:
                self.message_user(request, f"“{meeting}” {reason}", messages.WARNING)
                continue
            try:
                changed = service(meeting=meeting, by=request.user, **arguments)
            except ValidationError as error:
                self.message_user(request, f"“{meeting}”: {error.messages[0]}", messages.WARNING)
                continue
            what = done(changed) if callable(done) else done
            note = arguments.get("note")
            self.log_change(
                request,
                meeting,
                f"{what[0].upper()}{what[1:]}." + (f" Note: {note}" if note else ""),
            )
            self.message_user(request, f"“{meeting}” {what}.", messages.SUCCESS)

    def _ask(self, request, queryset, *, action, form, title, submit, intro="", extra=None):
        """The page an action shows before it acts (with the form's errors, if any)."""
        return TemplateResponse(
            request,
            "admin/meetings/meeting/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "intro": intro,
                "form": form,
                "action": action,
                "submit": submit,
                "meetings": [(meeting, event_date(meeting)) for meeting in queryset],
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "media": self.media + form.media,
                **(extra or {}),
            },
        )

    @staticmethod
    def _posted_form(request, form_class, **kwargs):
        return form_class(request.POST if "apply" in request.POST else None, **kwargs)

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
                self.log_change(request, meeting, "Added the standard agenda.")
                self.message_user(request, f"“{meeting}”: standard agenda added.", messages.SUCCESS)

    @staticmethod
    def _already_postponed(meeting):
        if meeting.status == Meeting.Status.POSTPONED and meeting.starts_at is None:
            return "is already postponed until further notice."
        return None

    @admin.action(description="Postpone until further notice", permissions=["change"])
    def postpone(self, request, queryset):
        # One click, as before; "Postpone…" asks for a new date and a note.
        self._act(
            request,
            queryset,
            services.meeting_postpone,
            "postponed until further notice",
            skip=self._already_postponed,
        )

    @admin.action(
        description="Postpone… (to a new date or until further notice, with a note)",
        permissions=["change"],
    )
    def postpone_to(self, request, queryset):
        if not queryset:
            return None
        form = self._posted_form(request, PostponeForm)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                action="postpone_to",
                form=form,
                title="Postpone meetings",
                submit="Postpone and tell the registrants",
                intro="Registrants who attend are told, with the updated calendar entry.",
            )
        data = form.cleaned_data
        for meeting in queryset:
            if data["day"] is None:
                self._act(
                    request,
                    [meeting],
                    services.meeting_postpone,
                    "postponed until further notice",
                    skip=self._already_postponed,
                    note=data["note"],
                )
                continue
            starts_at = _local(data["day"], data["start"], meeting.time_zone)
            if data["end"]:
                ends_at = _local(data["day"], data["end"], meeting.time_zone)
            elif meeting.starts_at and meeting.ends_at:
                ends_at = starts_at + (meeting.ends_at - meeting.starts_at)
            else:
                ends_at = None
            self._act(
                request,
                [meeting],
                services.meeting_postpone,
                lambda changed: f"postponed to {event_date(changed)}",
                starts_at=starts_at,
                ends_at=ends_at,
                note=data["note"],
            )
        return None

    @admin.action(description="Move to virtual…", permissions=["change"])
    def move_virtual(self, request, queryset):
        if not queryset:
            return None
        form = self._posted_form(request, MoveVirtualForm)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                action="move_virtual",
                form=form,
                title="Move meetings to virtual",
                submit="Move to virtual and tell the registrants",
                intro="In-person registrants then attend virtually; all who attend are told.",
            )
        self._act(
            request,
            queryset,
            services.meeting_move_virtual,
            "moved to virtual (add the join link if it has none)",
            skip=lambda m: "is already virtual." if m.format == Meeting.Format.VIRTUAL else None,
            join_url=form.cleaned_data["join_url"],
            note=form.cleaned_data["note"],
        )
        return None

    @admin.action(description="Cancel…", permissions=["change"])
    def cancel(self, request, queryset):
        if not queryset:
            return None
        form = self._posted_form(request, CancelForm)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                action="cancel",
                form=form,
                title="Cancel meetings",
                submit="Cancel and tell the registrants",
                intro="A cancelled meeting stays listed as cancelled; it cannot be undone here.",
            )
        self._act(
            request, queryset, services.meeting_cancel, "cancelled", note=form.cleaned_data["note"]
        )
        return None

    @admin.action(description="Send reminders now", permissions=["change"])
    def send_reminders_now(self, request, queryset):
        meetings = list(queryset.select_related("alliance"))
        by_alliance = defaultdict(list)
        for meeting in meetings:
            by_alliance[meeting.alliance].append(meeting.pk)
        queued = {}
        for alliance, ids in by_alliance.items():
            queued |= reminders.meeting_reminders_send_now(alliance=alliance, meeting_ids=ids)
        for meeting in meetings:
            if meeting.pk not in queued:
                self.message_user(
                    request,
                    f"“{meeting}” is not scheduled ahead: no reminders sent.",
                    messages.WARNING,
                )
            elif queued[meeting.pk] == 0:
                self.message_user(
                    request,
                    f"“{meeting}”: no reminder queued (sent already today, or no attending "
                    "registrant takes reminders).",
                    messages.INFO,
                )
            else:
                what = f"{queued[meeting.pk]} reminder(s) queued"
                self.log_change(request, meeting, f"Reminders sent now: {what}.")
                self.message_user(request, f"“{meeting}”: {what}.", messages.SUCCESS)

    @admin.action(description="Duplicate to a new date…", permissions=["add"])
    def duplicate(self, request, queryset):
        if not queryset:
            return None
        if len(queryset) != 1:
            self.message_user(request, "Choose one meeting to duplicate.", messages.WARNING)
            return None
        [meeting] = queryset
        form = self._posted_form(request, DuplicateForm)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                action="duplicate",
                form=form,
                title=f"Duplicate “{meeting}”",
                submit="Create the copy",
                intro=(
                    f"The copy keeps the details, agenda (moved by the same amount) and "
                    f"guests; nobody is registered and it has its own calendar entry. Times "
                    f"are in the meeting's zone, {meeting.time_zone}."
                ),
            )
        starts_at = _local(form.cleaned_data["day"], form.cleaned_data["start"], meeting.time_zone)
        try:
            copy = meeting_duplicate(meeting=meeting, starts_at=starts_at)
        except ValidationError as error:
            self.message_user(request, f"“{meeting}”: {error.messages[0]}", messages.ERROR)
            return None
        self.log_addition(request, copy, f"Duplicated from “{meeting}” (id {meeting.pk}).")
        self.log_change(request, meeting, f"Duplicated to {event_date(copy)} (id {copy.pk}).")
        self.message_user(
            request,
            f"“{meeting}” duplicated to {event_date(copy)}: add its join link if it needs one.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:meetings_meeting_change", args=[copy.pk]))

    @admin.action(description="Export registrations and attendance (CSV)", permissions=["view"])
    def export_registrations(self, request, queryset):
        # Built here, inside the admin's scope; only iterated while streaming.
        registrations = (
            Registration.objects.filter(meeting__in=queryset)
            .select_related("meeting", "membership__user", "membership__organization")
            .order_by("meeting__starts_at", "meeting_id", "membership__user__full_name", "pk")
        )
        rows = (
            [
                r.meeting.title,
                event_date(r.meeting),
                r.membership.user.full_name,
                r.membership.user.email,
                r.membership.organization.name if r.membership.organization else "",
                r.membership.get_role_display(),
                r.get_response_display(),
                r.attended,
            ]
            for r in registrations.iterator(chunk_size=500)
        )
        header = [
            "meeting",
            "date",
            "member",
            "email",
            "organization",
            "role",
            "response",
            "attended",
        ]
        return csv_download(f"registrations-{timezone.now():%Y%m%d}.csv", header, rows)

    @staticmethod
    def _not_yet(meeting, now) -> bool:
        return (
            meeting.status not in (Meeting.Status.SCHEDULED, Meeting.Status.COMPLETED)
            or meeting.starts_at is None
            or meeting.starts_at > now
        )

    @admin.action(description="Record attendance: all registrants attended", permissions=["change"])
    def record_attendance(self, request, queryset):
        now = timezone.now()
        for meeting in queryset:
            if self._not_yet(meeting, now):
                self.message_user(
                    request, f"“{meeting}” has not taken place: no attendance.", messages.WARNING
                )
                continue
            attending = meeting.registrations.exclude(
                response=Registration.Response.NOT_ATTENDING
            ).values_list("membership_id", flat=True)
            count = services.attendance_record(meeting=meeting, attended=set(attending))
            self.log_change(request, meeting, f"Attendance recorded: {count} attended.")
            self.message_user(
                request, f"“{meeting}”: {count} registrant(s) attended.", messages.SUCCESS
            )

    @admin.action(description="Record attendance… (tick who came)", permissions=["change"])
    def record_attendance_bulk(self, request, queryset):
        now = timezone.now()
        meetings = []
        for meeting in queryset:
            if self._not_yet(meeting, now):
                self.message_user(
                    request, f"“{meeting}” has not taken place: no attendance.", messages.WARNING
                )
            else:
                meetings.append(meeting)
        if not meetings:
            return None
        registrations = defaultdict(list)
        for registration in (
            Registration.objects.filter(meeting__in=meetings)
            .exclude(response=Registration.Response.NOT_ATTENDING)
            .select_related("membership__user", "membership__organization")
            .order_by("membership__user__full_name", "pk")
        ):
            registrations[registration.meeting_id].append(registration)
        if "apply" not in request.POST:
            return TemplateResponse(
                request,
                "admin/meetings/meeting/attendance.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Record attendance",
                    "meetings": [
                        (meeting, event_date(meeting), registrations[meeting.pk])
                        for meeting in meetings
                    ],
                    "opts": self.model._meta,
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        ticked = set(request.POST.getlist("attended"))
        for meeting in meetings:
            rows = registrations[meeting.pk]
            came = {r.membership_id for r in rows if str(r.pk) in ticked}
            services.attendance_record(meeting=meeting, attended=came)
            what = f"{len(came)} of {len(rows)} registrant(s) attended"
            self.log_change(request, meeting, f"Attendance recorded: {what}.")
            self.message_user(request, f"“{meeting}”: {what}.", messages.SUCCESS)
        return None

    # A community-of-practice session from the template: a changelist tool.

    def get_urls(self):
        return [
            path(
                "cop-session/",
                self.admin_site.admin_view(self.cop_session_view),
                name="meetings_meeting_cop_session",
            ),
            *super().get_urls(),
        ]

    def cop_session_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CopSessionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                meeting = services.cop_session_create(**form.service_arguments())
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                self.log_addition(
                    request, meeting, "Created from the community-of-practice template."
                )
                self.message_user(
                    request,
                    f"“{meeting}” created with the standard agenda: check it and open it for RSVP.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:meetings_meeting_change", args=[meeting.pk])
                )
        return TemplateResponse(
            request,
            "admin/meetings/meeting/cop_session.html",
            {
                **self.admin_site.each_context(request),
                "title": "New community-of-practice session",
                "form": form,
                "opts": self.model._meta,
                "media": self.media + form.media,
            },
        )

    # Deleting: never a meeting someone registered for.

    def deletion_refusal(self, obj) -> str | None:
        return deletion_refusal(obj)

    def delete_model(self, request, obj):
        services.meeting_check_deletable(meeting=obj)  # raises rather than deletes
        super().delete_model(request, obj)


@admin.register(Registration)
class RegistrationAdmin(TenantAdmin, TenantHistoryAdmin):
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


# A meeting's rows on their own: the agenda and guests across meetings, and the
# record of changes (written by the services, so only viewed here).
# ------------------------------------------------------------------------------


def _same_alliance_as(parent: str):
    """A form mixin: every row chosen belongs to the alliance of the chosen `parent`."""

    class SameAllianceForm:
        def clean(self):
            cleaned = super().clean()
            owner = cleaned.get(parent)
            if owner is None:
                return cleaned
            for name, value in list(cleaned.items()):
                if (
                    name != parent
                    and isinstance(value, models.Model)
                    and _has_alliance(type(value))
                    and value.alliance_id != owner.alliance_id
                ):
                    self.add_error(name, OTHER_ALLIANCE)
            return cleaned

    return SameAllianceForm


class MeetingRowAdmin(TenantAdmin, admin.ModelAdmin):
    alliance_path = "meeting__alliance"

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        return type(form_class.__name__, (_same_alliance_as("meeting"), form_class), {})


@admin.register(AgendaItem)
class AgendaItemAdmin(MeetingRowAdmin, TenantHistoryAdmin):
    list_display = ["title", "meeting", "order", "starts_at", "kind", "audience", "presenter"]
    list_filter = [("meeting", admin.RelatedOnlyFieldListFilter), "kind", "audience"]
    list_select_related = ["meeting", "presenter_member__user", "presenter_speaker"]
    search_fields = ["title", "meeting__title"]
    date_hierarchy = "meeting__starts_at"
    ordering = ["-meeting__starts_at", "meeting_id", "order", "pk"]
    autocomplete_fields = ["meeting", "presenter_member", "presenter_speaker"]

    @admin.display(description="presenter")
    def presenter(self, item):
        if item.presenter_speaker_id:
            return item.presenter_speaker.name
        if item.presenter_member_id:
            return item.presenter_member.user.full_name
        return ""


@admin.register(Guest)
class GuestAdmin(MeetingRowAdmin):
    list_display = ["speaker", "meeting", "meeting_date", "joins_dinner"]
    list_filter = ["joins_dinner", ("meeting", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["speaker", "meeting"]
    search_fields = ["speaker__name", "speaker__affiliation", "meeting__title"]
    ordering = ["-meeting__starts_at", "speaker__name", "pk"]
    autocomplete_fields = ["meeting", "speaker"]

    @admin.display(description="date", ordering="meeting__starts_at")
    def meeting_date(self, guest):
        return event_date(guest.meeting)


@admin.register(MeetingChange)
class MeetingChangeAdmin(ReadOnlyAdmin, TenantAdmin, admin.ModelAdmin):
    """Read-only: each row is written by the service that made the change."""

    list_display = ["meeting", "kind", "old_starts_at", "new_starts_at", "changed_by", "changed_at"]
    list_filter = ["kind", ("meeting", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["meeting", "changed_by"]
    search_fields = ["meeting__title", "note"]
    date_hierarchy = "changed_at"
