"""URLs of the collective voice and resources, included under `/<alliance_slug>/`."""

from django.urls import path

from . import content_views as views

voice_patterns = (
    [
        path("", views.publication_list, name="list"),
        path("add/", views.publication_add, name="add"),
        path("<int:publication_id>/edit/", views.publication_edit, name="edit"),
        path("<int:publication_id>/file/", views.publication_file, name="file"),
    ],
    "voice",
)

resource_patterns = (
    [
        path("", views.resource_list, name="list"),
        path("<int:resource_id>/file/", views.resource_file, name="file"),
    ],
    "resources",
)
