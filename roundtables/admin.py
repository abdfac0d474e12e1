"""Roundtables in the admin: seats, dates and status change only through the services.

* Status is read-only: postpone and cancel are actions (SEQUENCE raised, the
  original date kept); new dates typed into the form are a reschedule.
* A changed capacity goes through `roundtable_capacity_set`, which promotes the
  waitlist into new seats in order.
* Registrations are shown with their place; staff record attendance there. A
  member's seat is theirs to take or give up on the site.
* Questions: staff hide one (it is then shown to nobody); they never edit words.
* A roundtable someone registered for is never deleted.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from alliance.admin import ProgramYearAdmin
from alliance.models import ProgramYear
from alliance.tenancy.admin import TenantAdmin
from members.models import Speaker
from sessions.admin import MeetingRowsFormSet

from . import services
from .models import Question, Roundtable, RoundtableRegistration


def deletion_refusal(roundtable: Roundtable) -> str | None:
    try:
        services.roundtable_check_deletable(roundtable=roundtable)
    except ValidationError as error:
        return error.messages[0]
    return None


class RoundtableRowsInline(TenantAdmin):
    alliance_path = "alliance"
    formset = MeetingRowsFormSet  # rows only of the roundtable's alliance
    extra = 0


class RegistrationInline(RoundtableRowsInline, admin.TabularInline):
    model = RoundtableRegistration
    fields = ["membership", "status", "requested_at", "promoted_at", "attended"]
    readonly_fields = ["membership", "status", "requested_at", "promoted_at"]
    ordering = ["status", "requested_at", "pk"]
    can_delete = False
    verbose_name_plural = "registrations and waitlist (attendance: tick who came)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership__user", "roundtable")

    def has_add_permission(self, request, obj=None):
        return False


class QuestionInline(RoundtableRowsInline, admin.TabularInline):
    """For the facilitators: most votes first, as members see them."""

    model = Question
    fields = ["text", "votes_from_members", "asked_by", "asked_at", "is_hidden"]
    readonly_fields = ["text", "votes_from_members", "asked_by", "asked_at"]
    can_delete = False
    verbose_name_plural = "advance questions (most votes first)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("asked_by__user", "roundtable")
            .annotate(vote_count=Count("votes"))
            .order_by("-vote_count", "asked_at", "pk")
        )

    @admin.display(description="votes")
    def votes_from_members(self, question):
        return question.vote_count

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Roundtable)
class RoundtableAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["title", "starts_at", "status", "capacity", "program_year"]
    list_filter = ["status", "program_year"]
    list_select_related = ["program_year"]
    search_fields = ["title", "topic"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["facilitators"]
    inlines = [RegistrationInline, QuestionInline]
    actions = ["postpone", "cancel", "record_attendance"]
    fieldsets = [
        (None, {"fields": ["alliance", "program_year", "title", "topic", "status"]}),
        ("When", {"fields": ["starts_at", "ends_at", "original_starts_at", "time_zone"]}),
        ("Webinar", {"fields": ["facilitators", "join_url", "passcode"]}),
        ("Registration", {"fields": ["registration_required", "capacity"]}),
        (None, {"fields": ["description"]}),
        ("After the event", {"fields": ["recording_url", "slides", "summary"]}),
        ("Calendar", {"fields": ["uid", "sequence"], "classes": ["collapse"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = ["status", "original_starts_at", "uid", "sequence"]
        if obj is not None:
            fields.append("alliance")
            if obj.status == Roundtable.Status.CANCELLED:
                fields += ["starts_at", "ends_at"]
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "facilitators":
            # Inside the admin's scope: the staff user's alliances' speakers only;
            # the form's clean() holds them to the roundtable's own alliance.
            kwargs["queryset"] = Speaker.objects.all()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class RoundtableForm(form_class):
            def clean(self):
                cleaned = super().clean()
                alliance = cleaned.get("alliance") or getattr(self.instance, "alliance", None)
                if alliance is not None:
                    foreign = [
                        s for s in cleaned.get("facilitators", []) if s.alliance_id != alliance.pk
                    ]
                    if foreign:
                        self.add_error("facilitators", "Choose this alliance's speakers.")
                if cleaned.get("ends_at") and not cleaned.get("starts_at"):
                    self.add_error("starts_at", "A roundtable with an end needs a start.")
                return cleaned

        return RoundtableForm

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data) if change else set()
        starts_at, ends_at, capacity = obj.starts_at, obj.ends_at, obj.capacity
        if {"starts_at", "ends_at"} & changed:
            obj.starts_at, obj.ends_at = form.initial["starts_at"], form.initial["ends_at"]
        if "capacity" in changed:
            obj.capacity = form.initial["capacity"]
        super().save_model(request, obj, form, change)
        if {"starts_at", "ends_at"} & changed:
            rescheduled = services.roundtable_postpone(
                roundtable=obj, starts_at=starts_at, ends_at=ends_at
            )
            for name in ("starts_at", "ends_at", "original_starts_at", "status", "sequence"):
                setattr(obj, name, getattr(rescheduled, name))
            self.message_user(request, f"“{obj}” rescheduled.", messages.INFO)
        if "capacity" in changed:
            services.roundtable_capacity_set(roundtable=obj, capacity=capacity)
            obj.capacity = capacity

    def _act(self, request, queryset, service, done):
        for roundtable in queryset:
            try:
                service(roundtable=roundtable)
            except ValidationError as error:
                self.message_user(request, f"“{roundtable}”: {error.messages[0]}", messages.WARNING)
            else:
                self.message_user(request, f"“{roundtable}” {done}.", messages.SUCCESS)

    @admin.action(description="Postpone until further notice", permissions=["change"])
    def postpone(self, request, queryset):
        self._act(request, queryset, services.roundtable_postpone, "postponed")

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request, queryset):
        self._act(request, queryset, services.roundtable_cancel, "cancelled")

    @admin.action(
        description="Record attendance: every seated registrant attended", permissions=["change"]
    )
    def record_attendance(self, request, queryset):
        for roundtable in queryset:
            if not roundtable.has_happened:
                self.message_user(
                    request, f"“{roundtable}” has not taken place: no attendance.", messages.WARNING
                )
                continue
            seated = roundtable.registrations.filter(
                status=RoundtableRegistration.Status.REGISTERED
            ).values_list("membership_id", flat=True)
            count = services.attendance_record(roundtable=roundtable, attended=set(seated))
            self.message_user(request, f"“{roundtable}”: {count} attended.", messages.SUCCESS)

    # Deleting: never a roundtable someone registered for.

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or deletion_refusal(obj) is None)

    def delete_view(self, request, object_id, extra_context=None):
        roundtable = self.get_object(request, unquote(object_id))
        if roundtable is not None and super().has_delete_permission(request, roundtable):
            refusal = deletion_refusal(roundtable)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
                return HttpResponseRedirect(
                    reverse("admin:roundtables_roundtable_change", args=[roundtable.pk])
                )
        return super().delete_view(request, object_id, extra_context)

    def delete_queryset(self, request, queryset):
        keep = [r.pk for r in queryset if deletion_refusal(r) is not None]
        for roundtable in queryset.filter(pk__in=keep):
            self.message_user(request, deletion_refusal(roundtable), messages.ERROR)
        super().delete_queryset(request, queryset.exclude(pk__in=keep))


# The quarterly series, created from the program year
# ------------------------------------------------------------------------------


class QuarterlyRoundtablesForm(forms.Form):
    title = forms.CharField(initial="Leadership Virtual Roundtable", max_length=150)
    local_time = forms.TimeField(
        initial="12:00", help_text="In the alliance's time zone, on each quarter's third Thursday."
    )
    duration_minutes = forms.IntegerField(initial=90, min_value=15, max_value=480)
    capacity = forms.IntegerField(required=False, min_value=1, help_text="Empty: no limit.")
    facilitators = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, alliance, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = Speaker.objects.filter(alliance=alliance)


@admin.action(description="Create the quarterly roundtables", permissions=["change"])
def create_quarterly_roundtables(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Choose one program year.", messages.WARNING)
        return None
    program_year = queryset.select_related("alliance").get()
    form = QuarterlyRoundtablesForm(
        request.POST if "create" in request.POST else None, alliance=program_year.alliance
    )
    if form.is_valid():
        try:
            created = services.roundtables_create_quarterly(
                program_year=program_year,
                title=form.cleaned_data["title"],
                local_time=form.cleaned_data["local_time"],
                duration=datetime.timedelta(minutes=form.cleaned_data["duration_minutes"]),
                facilitators=list(form.cleaned_data["facilitators"]),
                capacity=form.cleaned_data["capacity"],
            )
        except ValidationError as error:
            modeladmin.message_user(request, error.messages[0], messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                f"{len(created)} roundtables created for {program_year}: adjust each as needed.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:roundtables_roundtable_changelist")
                + f"?program_year__id__exact={program_year.pk}"
            )
    return TemplateResponse(
        request,
        "admin/roundtables/create_quarterly.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": f"Quarterly roundtables for {program_year}",
            "form": form,
            "program_year": program_year,
            "dates": services.quarter_dates(program_year),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


ProgramYearAdmin.actions = [*(ProgramYearAdmin.actions or []), create_quarterly_roundtables]
admin.site.unregister(ProgramYear)
admin.site.register(ProgramYear, ProgramYearAdmin)
