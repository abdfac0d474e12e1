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
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from alliance.admin import ProgramYearAdmin
from alliance.models import ProgramYear
from alliance.tenancy.admin import (
    ReadOnlyAdmin,
    RefuseDeletionWithDependents,
    TenantAdmin,
    TenantHistoryAdmin,
)
from members.models import Speaker
from sessions.admin import MeetingRowsFormSet, csv_download, event_date

from . import services
from .models import Question, QuestionVote, Roundtable, RoundtableRegistration


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
class RoundtableAdmin(TenantAdmin, RefuseDeletionWithDependents, TenantHistoryAdmin):
    list_display = ["title", "starts_at", "status", "capacity", "program_year"]
    list_filter = ["status", "program_year"]
    list_select_related = ["program_year"]
    search_fields = ["title", "topic"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["facilitators"]
    inlines = [RegistrationInline, QuestionInline]
    actions = [
        "postpone",
        "cancel",
        "record_attendance",
        "export_registrations",
        "export_questions",
        "delete_selected",
    ]
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
                self.log_change(request, roundtable, f"{done[0].upper()}{done[1:]}.")
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
            self.log_change(request, roundtable, f"Attendance recorded: {count} attended.")
            self.message_user(request, f"“{roundtable}”: {count} attended.", messages.SUCCESS)

    # Exports: built inside the admin's scope, streamed afterwards.

    @admin.action(description="Export registrations and the waitlist (CSV)", permissions=["view"])
    def export_registrations(self, request, queryset):
        registrations = (
            RoundtableRegistration.objects.filter(roundtable__in=queryset)
            .select_related("roundtable", "membership__user", "membership__organization")
            .order_by("roundtable__starts_at", "roundtable_id", "requested_at", "pk")
        )

        def rows():
            # The waitlist's order is the rows' order (requested_at, then id) per roundtable.
            place, current = 0, None
            for r in registrations.iterator(chunk_size=500):
                if r.roundtable_id != current:
                    place, current = 0, r.roundtable_id
                waiting = r.status == RoundtableRegistration.Status.WAITLISTED
                place += waiting
                yield [
                    r.roundtable.title,
                    event_date(r.roundtable),
                    r.membership.user.full_name,
                    r.membership.user.email,
                    r.membership.organization.name if r.membership.organization else "",
                    r.get_status_display(),
                    place if waiting else None,
                    r.attended,
                ]

        header = [
            "roundtable",
            "date",
            "member",
            "email",
            "organization",
            "status",
            "place on waitlist",
            "attended",
        ]
        return csv_download(f"roundtable-registrations-{timezone.now():%Y%m%d}.csv", header, rows())

    @admin.action(description="Export advance questions (CSV)", permissions=["view"])
    def export_questions(self, request, queryset):
        questions = (
            Question.objects.filter(roundtable__in=queryset)
            .select_related("roundtable", "asked_by__user", "asked_by__organization")
            .annotate(vote_count=Count("votes"))
            .order_by("roundtable__starts_at", "roundtable_id", "-vote_count", "asked_at", "pk")
        )
        rows = (
            [
                q.roundtable.title,
                event_date(q.roundtable),
                q.text,
                q.asked_by.user.full_name,
                q.asked_by.organization.name if q.asked_by.organization else "",
                q.vote_count,
                q.is_hidden,
            ]
            for q in questions.iterator(chunk_size=500)
        )
        header = ["roundtable", "date", "question", "asked by", "organization", "votes", "hidden"]
        return csv_download(f"roundtable-questions-{timezone.now():%Y%m%d}.csv", header, rows)

    # Deleting: never a roundtable someone registered for.

    def deletion_refusal(self, obj) -> str | None:
        return deletion_refusal(obj)

    def delete_model(self, request, obj):
        services.roundtable_check_deletable(roundtable=obj)  # raises rather than deletes
        super().delete_model(request, obj)


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


# Registrations, questions and votes on their own (across roundtables)
# ------------------------------------------------------------------------------


@admin.register(RoundtableRegistration)
class RoundtableRegistrationAdmin(TenantAdmin, TenantHistoryAdmin):
    """Seats are the members' to take or give up (the waitlist's order depends on it):
    staff only record attendance."""

    list_display = ["membership", "roundtable", "status", "requested_at", "promoted_at", "attended"]
    list_editable = ["attended"]
    list_filter = ["status", "attended", ("roundtable", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["membership__user", "roundtable"]
    search_fields = ["membership__user__full_name", "membership__user__email", "roundtable__title"]
    date_hierarchy = "requested_at"
    ordering = ["-roundtable__starts_at", "roundtable_id", "status", "requested_at", "pk"]
    fields = [
        "roundtable",
        "membership",
        "status",
        "requested_at",
        "promoted_at",
        "cancelled_at",
        "attended",
    ]
    readonly_fields = [f for f in fields if f != "attended"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class QuestionsByVotes(ChangeList):
    # Not ModelAdmin.ordering: get_queryset orders by it before the votes are counted.
    def _get_default_ordering(self):
        return ["-roundtable__starts_at", "roundtable_id", "-vote_count", "asked_at", "pk"]


@admin.register(Question)
class QuestionAdmin(TenantAdmin, admin.ModelAdmin):
    """For the facilitators, most votes first; staff hide a question, never edit it."""

    list_display = ["short_text", "roundtable", "asked_by", "votes", "asked_at", "is_hidden"]
    list_editable = ["is_hidden"]
    list_filter = ["is_hidden", ("roundtable", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["roundtable", "asked_by__user"]
    search_fields = ["text", "asked_by__user__full_name", "roundtable__title"]
    date_hierarchy = "asked_at"
    fields = ["roundtable", "text", "asked_by", "asked_at", "votes", "is_hidden"]
    readonly_fields = [f for f in fields if f != "is_hidden"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(vote_count=Count("votes", distinct=True))

    def get_changelist(self, request, **kwargs):
        return QuestionsByVotes

    @admin.display(description="question")
    def short_text(self, question):
        return str(question)

    @admin.display(description="votes", ordering="vote_count")
    def votes(self, question):
        return question.vote_count

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuestionVote)
class QuestionVoteAdmin(ReadOnlyAdmin, TenantAdmin, admin.ModelAdmin):
    """Members' votes: viewed, never changed by staff."""

    list_display = ["question", "membership", "roundtable", "voted_at"]
    list_filter = [("question__roundtable", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["question__roundtable", "membership__user"]
    search_fields = ["question__text", "membership__user__full_name"]
    date_hierarchy = "voted_at"

    @admin.display(description="roundtable", ordering="question__roundtable__starts_at")
    def roundtable(self, vote):
        return vote.question.roundtable
