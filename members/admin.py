from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_scopes import scope

from alliance.notifications.digests import preview_digest
from alliance.notifications.preview import email_preview_response
from alliance.tenancy.admin import (
    RefuseDeletionWithDependents,
    SuperuserOnlyAdmin,
    TenantAdmin,
    TenantHistoryAdmin,
    first_dependents,
)

from . import services
from .models import Invitation, Membership, Organization, Speaker, User
from .resources import AllianceImportExportMixin, MembershipResource, OrganizationResource


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
class OrganizationAdmin(
    TenantAdmin, RefuseDeletionWithDependents, AllianceImportExportMixin, admin.ModelAdmin
):
    resource_classes = [OrganizationResource]
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    actions = ["delete_selected"]

    def deletion_refusal(self, organization):
        noun = first_dependents(
            organization,
            [
                ("memberships", "members"),
                ("participations", "workgroup participations"),
                ("readings", "readings"),
            ],
        )
        if noun is None:
            return None
        return (
            f"“{organization}” has {noun}: it cannot be deleted. Untick “is active” "
            "instead; its people and its data stay."
        )


@admin.register(Membership)
class MembershipAdmin(TenantAdmin, AllianceImportExportMixin, TenantHistoryAdmin):
    resource_classes = [MembershipResource]
    list_display = ["user", "organization", "role", "title", "is_active"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__full_name", "user__email", "organization__name"]
    actions = ["deactivate"]
    readonly_fields = ["digest_preview_link"]
    # Adds "Invite a member" beside import and export (django-import-export keeps
    # it as the base of its own changelist template).
    change_list_template = "admin/members/membership/change_list.html"

    # The progress digest preview: what the member would get if it went out now.
    # GET only, and nothing is queued.

    def get_urls(self):
        return [
            path(
                "<path:object_id>/digest/",
                self.admin_site.admin_view(self.digest_preview_view),
                name="members_membership_digest_preview",
            ),
            path(
                "<path:object_id>/digest/html/",
                self.admin_site.admin_view(self.digest_preview_html_view),
                name="members_membership_digest_preview_html",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="progress digest")
    def digest_preview_link(self, membership):
        if membership.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Preview the digest as it would be sent now</a>',
            reverse("admin:members_membership_digest_preview", args=[membership.pk]),
        )

    def _digest_preview(self, request, object_id):
        # get_object goes through TenantAdmin's queryset: another alliance's member is None.
        membership = self.get_object(request, unquote(object_id))
        if membership is None or not self.has_view_permission(request, membership):
            raise Http404
        with scope(alliance=membership.alliance):
            return preview_digest(membership=membership, now=timezone.now())

    def digest_preview_view(self, request, object_id):
        preview = self._digest_preview(request, object_id)
        membership = preview.membership
        return TemplateResponse(
            request,
            "admin/notifications/digest_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Progress digest of {membership.user}",
                "opts": self.model._meta,
                "membership": membership,
                "preview": preview,
                "since": timezone.localtime(
                    preview.digest.since, timezone.get_current_timezone()
                ).strftime("%Y-%m-%d %H:%M %Z"),
                "html_url": reverse(
                    "admin:members_membership_digest_preview_html", args=[membership.pk]
                ),
            },
        )

    def digest_preview_html_view(self, request, object_id):
        preview = self._digest_preview(request, object_id)
        return email_preview_response(preview.message["html_body"], preview.message["attachments"])

    @admin.action(
        description="Deactivate (leaves the alliance; history is kept)", permissions=["change"]
    )
    def deactivate(self, request, queryset):
        done = 0
        for membership in queryset.select_related("user"):
            if not membership.is_active:
                continue
            services.membership_deactivate(membership=membership)
            # Recorded like any admin change: who, when, which membership.
            self.log_change(request, membership, "Deactivated (left the alliance).")
            done += 1
        skipped = len(queryset) - done
        text = f"{done} membership(s) deactivated."
        if skipped:
            text += f" {skipped} already inactive, left as they were."
        self.message_user(request, text, messages.SUCCESS)


@admin.register(Speaker)
class SpeakerAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ["name", "title", "affiliation"]
    search_fields = ["name", "affiliation"]


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin, admin.ModelAdmin):
    """Invite by email; the pending list is the changelist filtered by status."""

    # The form is built per request, inside the staff user's scope.
    fields = ["alliance", "email", "full_name", "organization", "role", "title"]
    list_display = [
        "email",
        "full_name",
        "organization",
        "role",
        "status",
        "sent_at",
        "expires_at",
        "accepted_by",
    ]
    list_filter = ["status", "role"]
    list_select_related = ["organization", "accepted_by"]
    search_fields = ["email", "full_name", "organization__name"]
    actions = ["resend", "revoke", "approve"]

    def get_readonly_fields(self, request, obj=None):
        # An invitation is created by the invite service and then only acted upon.
        if obj is None:
            return []
        return [
            "alliance",
            "email",
            "full_name",
            "organization",
            "role",
            "title",
            "status",
            "invited_by",
            "sent_at",
            "expires_at",
            "accepted_by",
            "accepted_at",
        ]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or self.fields

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form_class

        class InviteForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if cleaned.get("alliance") and cleaned.get("email"):
                    services.invitation_check_not_member(
                        alliance=cleaned["alliance"], email=cleaned["email"]
                    )
                return cleaned

        return InviteForm

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once sent
        created = services.invitation_create(
            alliance=obj.alliance,
            email=obj.email,
            role=obj.role,
            invited_by=request.user,
            organization=obj.organization,
            title=obj.title,
            full_name=obj.full_name,
        )
        obj.pk = created.pk

    def _act(self, request, queryset, service, done):
        succeeded = 0
        for invitation in queryset:
            try:
                service(invitation=invitation)
                succeeded += 1
            except services.InvitationError as error:
                self.message_user(
                    request, f"{invitation.email}: {error.messages[0]}", messages.WARNING
                )
        if succeeded:
            self.message_user(request, f"{succeeded} invitation(s) {done}.", messages.SUCCESS)

    @admin.action(description="Send again (new link, 14 more days)", permissions=["change"])
    def resend(self, request, queryset):
        self._act(request, queryset, services.invitation_resend, "sent again")

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request, queryset):
        self._act(request, queryset, services.invitation_revoke, "revoked")

    @admin.action(description="Approve (accepted from another address)", permissions=["change"])
    def approve(self, request, queryset):
        self._act(request, queryset, services.invitation_approve, "approved")
