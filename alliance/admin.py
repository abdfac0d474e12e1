from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from .models import (
    Alliance,
    AuditEvent,
    Notice,
    OutgoingEmail,
    ProgramYear,
    Publication,
    Resource,
)
from .notifications import outbox
from .notifications.content import content_of
from .notifications.preview import email_preview_response
from .tenancy.admin import ReadOnlyAdmin, SuperuserOnlyAdmin, TenantAdmin


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


@admin.register(Resource)
class ResourceAdmin(TenantAdmin, admin.ModelAdmin):
    """Documents for members (the prospectus…), by program year; empty year: every year.

    Files are private: members download them from the Resources page, which checks membership.
    """

    list_display = ["title", "kind", "program_year", "published_on"]
    list_filter = ["kind", "program_year"]
    list_select_related = ["program_year"]
    search_fields = ["title", "description"]
    date_hierarchy = "published_on"


@admin.register(Publication)
class PublicationAdmin(TenantAdmin, admin.ModelAdmin):
    """The collective voice: members add their own on the site; staff may fix any here."""

    list_display = ["title", "kind", "published_on", "venue", "workgroup"]
    list_filter = ["kind", "workgroup"]
    list_select_related = ["workgroup"]
    search_fields = ["title", "venue", "summary"]
    date_hierarchy = "published_on"
    filter_horizontal = ["author_members", "author_organizations"]


# The outbox
# ------------------------------------------------------------------------------


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(TenantAdmin, admin.ModelAdmin):
    """What the portal sent, is sending or could not send. Read-only, except "Retry".

    Staff see their alliances' rows; account emails (no alliance) only superusers.
    """

    list_display = ["created_at", "kind", "recipient", "subject", "status", "attempts"]
    list_filter = ["status", "kind"]
    search_fields = ["recipient", "subject"]
    actions = ["retry"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "alliance",
                    "kind",
                    "object_ref",
                    "key",
                    "recipient",
                    "from_email",
                    "reply_to",
                    "subject",
                ]
            },
        ),
        (
            "Delivery",
            {
                "fields": [
                    "status",
                    "attempts",
                    "last_error",
                    "next_attempt_at",
                    "created_at",
                    "updated_at",
                    "sent_at",
                ]
            },
        ),
        ("Message", {"fields": ["html_preview", "text_part", "headers", "attachment_list"]}),
    ]
    readonly_fields = [field for _name, options in fieldsets for field in options["fields"]]

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="alliance_outgoingemail_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request, object_id):
        email = self.get_object(request, unquote(object_id))
        if email is None or not self.has_view_permission(request, email):
            raise Http404
        content = content_of(email)
        return email_preview_response(content.html, content.attachments)

    @admin.display(description="HTML part")
    def html_preview(self, email):
        return format_html(
            '<iframe src="{}" sandbox="" referrerpolicy="no-referrer" width="100%" height="600"'
            ' title="Preview of the HTML part"></iframe>',
            reverse("admin:alliance_outgoingemail_preview", args=[email.pk]),
        )

    @admin.display(description="text part")
    def text_part(self, email):
        return content_of(email).text

    @admin.display(description="attachments")
    def attachment_list(self, email):
        return ", ".join(
            f"{a['filename']} ({a.get('mimetype') or 'unknown type'})"
            for a in content_of(email).attachments
        )

    @admin.action(
        description="Retry: send the selected failed emails again", permissions=["change"]
    )
    def retry(self, request, queryset):
        selected = queryset.count()
        queued = outbox.requeue_failed(rows=queryset)
        self.message_user(request, f"{queued} of {selected} selected emails queued again.")
        if queued < selected:
            self.message_user(
                request,
                "Only failed emails are sent again; the others were left alone.",
                messages.WARNING,
            )

    def has_add_permission(self, request):
        return False  # the portal's code queues mail; nobody writes it here

    def has_change_permission(self, request, obj=None):
        # A row records what was sent: never edited. The permission without an
        # object is what allows the "Retry" action.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, SuperuserOnlyAdmin, admin.ModelAdmin):
    """The audit log (alliance/audit.py): superusers read it; nobody edits it."""

    list_display = ["at", "kind", "user_email", "alliance", "ip", "detail"]
    list_filter = ["kind", "alliance"]
    search_fields = ["user_email", "ip", "detail"]
    date_hierarchy = "at"
    list_select_related = ["alliance"]
    readonly_fields = ["at", "kind", "user", "user_email", "alliance", "ip", "detail"]
