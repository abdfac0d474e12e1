from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from alliance.selectors import current_program_year
from alliance.tenancy.admin import TenantAdmin

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


class FocusAreaInline(admin.TabularInline):
    model = FocusArea
    extra = 0


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(Workgroup)
class WorkgroupAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["name", "program_year", "status"]
    list_filter = ["status", "program_year"]
    list_select_related = ["program_year"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["leads"]
    inlines = [FocusAreaInline, ParticipationInline]


class AimInline(admin.StackedInline):
    model = Aim
    extra = 0
    max_num = 1
    exclude = ["alliance"]


@admin.register(Measure)
class MeasureAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["name", "workgroup", "kind", "period", "direction"]
    list_filter = ["kind", "period", "workgroup"]
    list_select_related = ["workgroup"]
    search_fields = ["name"]


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
class AimAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = [
        "statement",
        "measure",
        "baseline_value",
        "target_kind",
        "target_value",
        "due_on",
    ]
    list_select_related = ["measure"]
    inlines = [BaselineChangeInline]

    def get_readonly_fields(self, request, obj=None):
        # The baseline is frozen once set: change it with a reason (services).
        return ["baseline_value"] if obj else []


class RevisionInline(HistoryInline):
    model = ReadingRevision


@admin.register(Reading)
class ReadingAdmin(TenantAdmin, admin.ModelAdmin):
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
        services.reading_save(
            measure=obj.measure,
            organization=obj.organization,
            period_start=obj.period_start,
            numerator=obj.numerator,
            denominator=obj.denominator,
            achieved=obj.achieved,
            note=obj.note,
            by=request.user,
        )


class GoalInline(admin.StackedInline):
    model = Goal
    extra = 0
    exclude = ["alliance"]


@admin.register(GoalSet)
class GoalSetAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["organization", "program_year", "submitted_at"]
    list_select_related = ["organization", "program_year"]
    inlines = [GoalInline]
    actions = ["reopen"]

    @admin.action(description="Reopen for changes", permissions=["change"])
    def reopen(self, request, queryset):
        queryset.update(submitted_at=None, submitted_by=None)


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
