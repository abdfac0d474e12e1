"""The staff admin: the portal's name, and the apps in the order staff work in."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class PortalAdminSite(admin.AdminSite):
    site_header = f"{settings.PORTAL_NAME} — staff"
    site_title = settings.PORTAL_NAME
    index_title = "Run your alliance"
    site_url = "/"
    # The program year's work first; the alliance's own settings and mail after;
    # accounts and the framework's models (superusers only) last, by name.
    APP_ORDER = ("meetings", "roundtables", "workgroups", "members", "alliance")

    def get_app_list(self, request, app_label=None):
        rank = {label: position for position, label in enumerate(self.APP_ORDER)}
        return sorted(
            super().get_app_list(request, app_label),
            key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"]),
        )


class PortalAdminConfig(AdminConfig):
    default_site = "alliance.admin_site.PortalAdminSite"
