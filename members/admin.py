from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from alliance.tenancy.admin import SuperuserOnlyAdmin, TenantAdmin

from .models import Membership, Organization, User


@admin.register(User)
class UserAdmin(SuperuserOnlyAdmin, DjangoUserAdmin):
    """Users are global, not tenant rows: only superusers manage them here."""

    ordering = ["full_name", "email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Organization)
class OrganizationAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["user", "organization", "role", "title", "is_active"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__full_name", "user__email", "organization__name"]
