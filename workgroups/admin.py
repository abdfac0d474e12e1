"""Workgroups, measures, readings and goals in the admin, for alliance staff.

* Staff see and choose only their alliances' rows (TenantAdmin; every inline hangs
  from a row of theirs, and a new inline row takes its parent's alliance).
* Readings are imported (CSV or Excel, previewed, all or nothing) and exported with
  django-import-export: `workgroups.resources.ReadingResource`.
* A measure with readings, a workgroup with measures (and, in members/admin.py, an
  organization with members) is never deleted: the delete view and the bulk delete
  action refuse it with a message.
* Rows the services write as history (reading revisions, baseline changes) are
  view only.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from import_export.formats import base_formats

from alliance.selectors import current_program_year
from alliance.tenancy.admin import (
    RefuseDeletionWithDependents,
    TenantAdmin,
    TenantHistoryAdmin,
    first_dependents,
)
from alliance.tenancy.history import bulk_update_recorded
from members.resources import AllianceImportExportMixin

from . import services
from .models import (
    Aim,
    BaselineChange,
    Commitment,
    FocusArea,
    FocusProposal,
    Goal,
    GoalSet,
    Measure,
    Participation,
    Reading,
    ReadingRevision,
    Workgroup,
)
from .resources import ReadingResource


class SameAllianceFormSet(BaseInlineFormSet):
    """New inline rows of a model with its own `alliance` take the parent's."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.instance is not None and self.instance.alliance_id:
            form.instance.alliance_id = self.instance.alliance_id
        return form


class ViewOnlyAdmin:
    """Rows written by services as history: listed and shown, never added, edited or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FocusAreaInline(admin.TabularInline):
    model = FocusArea
    extra = 0


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["organization"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")


class MeasureInline(admin.TabularInline):
    """The workgroup's measures at a glance; the full form (and its aim) is a click away."""

    model = Measure
    formset = SameAllianceFormSet
    fk_name = "workgroup"
    extra = 0
    fields = ["name", "kind", "period", "direction", "first_period"]
    show_change_link = True
    # Deleting is the measure's own page's job, where a measure with readings is refused.
    can_delete = False


def completeness_url(workgroup: Workgroup) -> str | None:
    try:
        return reverse(
            "workgroups:completeness",
            kwargs={"alliance_slug": workgroup.alliance.slug, "workgroup_slug": workgroup.slug},
        )
    except NoReverseMatch:  # a slug the URL pattern does not accept
        return None


@admin.register(Workgroup)
class WorkgroupAdmin(TenantAdmin, RefuseDeletionWithDependents, admin.ModelAdmin):
    list_display = ["name", "program_year", "status", "completeness_column"]
    list_filter = ["status", "program_year"]
    # The alliance: the completeness link is under its slug.
    list_select_related = ["program_year", "alliance"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["leads"]
    readonly_fields = ["completeness_link"]
    inlines = [FocusAreaInline, ParticipationInline, MeasureInline]
    actions = ["delete_selected"]

    @admin.display(description="data completeness")
    def completeness_column(self, workgroup):
        url = completeness_url(workgroup)
        return format_html('<a href="{}">Board</a>', url) if url else "—"

    @admin.display(description="data completeness")
    def completeness_link(self, workgroup):
        url = workgroup.pk and completeness_url(workgroup)
        if not url:
            return "—"
        return format_html(
            '<a href="{}">Who has reported which period (completeness board)</a>', url
        )

    def deletion_refusal(self, workgroup):
        if not workgroup.measures.exists():
            return None
        return (
            f"“{workgroup}” has measures: it cannot be deleted. Set its status to "
            "Completed or Paused instead; its measures and readings stay."
        )


class AimInline(admin.StackedInline):
    model = Aim
    formset = SameAllianceFormSet
    extra = 0
    max_num = 1
    exclude = ["alliance"]
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        # The baseline is frozen once set: change it with a reason (the aim's page).
        if obj is not None and Aim.objects.filter(measure=obj).exists():
            return ["baseline_value"]
        return []


@admin.register(Measure)
class MeasureAdmin(TenantAdmin, RefuseDeletionWithDependents, TenantHistoryAdmin):
    # The id: a readings file may name a measure by it.
    list_display = ["name", "id", "workgroup", "kind", "period", "direction"]
    list_filter = ["kind", "period", "workgroup"]
    list_select_related = ["workgroup"]
    search_fields = ["name", "workgroup__name"]
    inlines = [AimInline]
    actions = ["delete_selected"]

    def deletion_refusal(self, measure):
        if measure.readings.exists():
            return (
                f"“{measure}” has readings: a measure with reported data cannot be "
                "deleted, so the data and its history stay. Mark its workgroup "
                "Completed to retire it."
            )
        noun = first_dependents(measure, [("goals", "organization goals")])
        if noun is None and Aim.objects.filter(measure=measure).exists():
            noun = "an aim"
        if noun is None:
            return None
        return f"“{measure}” has {noun}: remove them first, then delete the measure."


class HistoryInline(admin.TabularInline):
    """Rows written by services as history: shown, never added, edited or deleted here."""

    extra = 0
    can_delete = False
    exclude = ["alliance"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BaselineChangeInline(HistoryInline):
    model = BaselineChange


@admin.register(Aim)
class AimAdmin(TenantAdmin, TenantHistoryAdmin):
    list_display = [
        "statement",
        "measure",
        "baseline_value",
        "target_kind",
        "target_value",
        "due_on",
    ]
    list_filter = ["target_kind"]
    list_select_related = ["measure"]
    search_fields = ["statement", "measure__name"]
    inlines = [BaselineChangeInline]

    def get_readonly_fields(self, request, obj=None):
        # The baseline is frozen once set: change it with a reason (services).
        return ["baseline_value"] if obj else []


class RevisionInline(HistoryInline):
    model = ReadingRevision


@admin.register(Reading)
class ReadingAdmin(TenantAdmin, AllianceImportExportMixin, TenantHistoryAdmin):
    resource_classes = [ReadingResource]
    import_formats = [base_formats.CSV, base_formats.XLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    # Import-export's preview, with "Line" numbers as the file counts them.
    import_template_name = "admin/workgroups/reading/import.html"
    list_display = [
        "measure",
        "organization",
        "period_start",
        "numerator",
        "denominator",
        "achieved",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["measure", "organization"]
    list_select_related = ["measure", "organization", "updated_by"]
    date_hierarchy = "period_start"
    readonly_fields = ["entered_by", "entered_at", "updated_by", "updated_at"]
    inlines = [RevisionInline]

    def save_model(self, request, obj, form, change):
        # Through the service: the same validation and revision history as members.
        reading = services.reading_save(
            measure=obj.measure,
            organization=obj.organization,
            period_start=obj.period_start,
            numerator=obj.numerator,
            denominator=obj.denominator,
            achieved=obj.achieved,
            note=obj.note,
            by=request.user,
        )
        # The admin's messages and redirect read the saved row.
        obj.pk, obj._state.adding = reading.pk, False


class GoalInline(admin.StackedInline):
    model = Goal
    formset = SameAllianceFormSet
    extra = 0
    exclude = ["alliance"]


@admin.register(GoalSet)
class GoalSetAdmin(TenantAdmin, TenantHistoryAdmin):
    list_display = ["organization", "program_year", "submitted_at"]
    list_select_related = ["organization", "program_year"]
    inlines = [GoalInline]
    actions = ["reopen"]

    @admin.action(description="Reopen for changes", permissions=["change"])
    def reopen(self, request, queryset):
        # Row by row in history (who reopened, when), and in the admin's log.
        submitted = [goal_set for goal_set in queryset if goal_set.submitted_at is not None]
        for goal_set in submitted:
            goal_set.submitted_at, goal_set.submitted_by = None, None
        bulk_update_recorded(submitted, ["submitted_at", "submitted_by"], by=request.user)
        for goal_set in submitted:
            self.log_change(request, goal_set, "Reopened for changes.")
        self.message_user(
            request, f"{len(submitted)} goal set(s) reopened for changes.", messages.SUCCESS
        )


@admin.register(Commitment)
class CommitmentAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["organization", "kind", "status", "updated_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["organization"]


@admin.register(FocusProposal)
class FocusProposalAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["title", "status", "created_at", "workgroup"]
    list_filter = ["status"]
    list_select_related = ["workgroup"]
    actions = ["adopt"]

    @admin.action(description="Adopt as a workgroup (current program year)", permissions=["change"])
    def adopt(self, request, queryset):
        for proposal in queryset:
            try:
                workgroup = services.focus_proposal_adopt(
                    proposal=proposal,
                    program_year=current_program_year(alliance=proposal.alliance),
                )
            except ValidationError as error:
                self.message_user(request, f"{proposal}: {error.messages[0]}", messages.WARNING)
            else:
                self.message_user(request, f"Workgroup “{workgroup}” created.", messages.SUCCESS)


# Rows of a workgroup, and history: standalone lists
# ------------------------------------------------------------------------------


@admin.register(Participation)
class ParticipationAdmin(TenantAdmin, admin.ModelAdmin):
    alliance_path = "workgroup__alliance"
    list_display = ["organization", "workgroup", "joined_on"]
    list_filter = ["workgroup"]
    list_select_related = ["organization", "workgroup"]
    search_fields = ["organization__name", "workgroup__name"]
    autocomplete_fields = ["organization", "workgroup"]
    date_hierarchy = "joined_on"


@admin.register(FocusArea)
class FocusAreaAdmin(TenantAdmin, admin.ModelAdmin):
    alliance_path = "workgroup__alliance"
    list_display = ["title", "workgroup", "order"]
    list_filter = ["workgroup"]
    list_select_related = ["workgroup"]
    search_fields = ["title", "workgroup__name"]


@admin.register(Goal)
class GoalAdmin(TenantAdmin, TenantHistoryAdmin):
    list_display = ["statement", "goal_set", "measure", "baseline_value", "theoretical_limit"]
    list_filter = ["due_on"]
    list_select_related = ["goal_set__organization", "goal_set__program_year", "measure"]
    search_fields = ["statement", "goal_set__organization__name", "measure__name"]


@admin.register(ReadingRevision)
class ReadingRevisionAdmin(ViewOnlyAdmin, TenantAdmin, admin.ModelAdmin):
    list_display = ["reading", "numerator", "denominator", "achieved", "changed_by", "changed_at"]
    list_select_related = ["reading__measure", "reading__organization", "changed_by"]
    search_fields = ["reading__organization__name", "reading__measure__name"]
    date_hierarchy = "changed_at"


@admin.register(BaselineChange)
class BaselineChangeAdmin(ViewOnlyAdmin, TenantAdmin, admin.ModelAdmin):
    list_display = ["aim", "old_value", "new_value", "reason", "changed_by", "changed_at"]
    list_select_related = ["aim", "changed_by"]
    search_fields = ["aim__statement", "reason"]
    date_hierarchy = "changed_at"
