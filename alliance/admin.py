from django.contrib import admin

from .models import Alliance, Notice, ProgramYear
from .tenancy.admin import SuperuserOnlyAdmin, TenantAdmin


@admin.register(Alliance)
class AllianceAdmin(SuperuserOnlyAdmin, admin.ModelAdmin):
    """The tenants themselves: only superusers create or edit them."""

    list_display = ["name", "slug", "time_zone", "digest_cadence"]
    search_fields = ["name", "short_name", "slug"]
    prepopulated_fields = {"slug": ["short_name"]}


@admin.register(ProgramYear)
class ProgramYearAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on"]
    date_hierarchy = "starts_on"


@admin.register(Notice)
class NoticeAdmin(TenantAdmin, admin.ModelAdmin):
    """Alliance-wide notices, e.g. in-person meetings postponed; no end: until further notice."""

    list_display = ["title", "starts_on", "ends_on"]
    search_fields = ["title", "body"]
    date_hierarchy = "starts_on"
