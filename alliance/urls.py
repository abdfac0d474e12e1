from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from members import views as member_views
from sessions import calendar_views

from . import content_urls, notification_views, views

# /admin/login/ goes through allauth: its rate limits and MFA apply. So does a
# password change, which also ends the user's other sessions.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.password_change = lambda request, extra_context=None: redirect("account_change_password")

tenant_patterns = [
    path("", views.alliance_home, name="alliance_home"),
    path("help/", views.need_help, name="need_help"),
    path("logo/", views.alliance_logo, name="alliance_logo"),
    path("members/", include("members.urls")),
    path("voice/", include(content_urls.voice_patterns)),
    path("resources/", include(content_urls.resource_patterns)),
    path("", include("workgroups.urls")),
    path("", include("sessions.urls")),
    path("", include("roundtables.urls")),
]

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("healthz", views.healthz, name="healthz"),
    # Tenant-free: the signed token names the alliance (members.services).
    path("invitations/<str:token>/", member_views.invitation, name="invitation"),
    path("calendar/<str:token>.ics", calendar_views.calendar_feed, name="calendar_feed"),
    # Tenant-free: the signed token names the alliance and the member (RFC 8058 one-click).
    path("unsubscribe/<str:token>/", notification_views.unsubscribe, name="unsubscribe"),
    path("", views.home, name="home"),
    # Tenant routes last: the slug would otherwise shadow the routes above.
    path("<slug:alliance_slug>/", include(tenant_patterns)),
]
