from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("me/", views.profile, name="profile"),
    path("preferences/", views.email_preferences, name="preferences"),
    path("<int:membership_id>/", views.person_detail, name="person"),
    path("<int:membership_id>/photo/", views.person_photo, name="person_photo"),
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/<int:organization_id>/", views.organization_detail, name="organization"),
    path(
        "organizations/<int:organization_id>/logo/",
        views.organization_logo,
        name="organization_logo",
    ),
]
