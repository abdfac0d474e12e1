from django.urls import path

from . import views

app_name = "roundtables"

urlpatterns = [
    path("roundtables/", views.roundtable_list, name="list"),
    path("roundtables/<int:roundtable_id>/", views.roundtable_detail, name="detail"),
    path("roundtables/<int:roundtable_id>/register/", views.register, name="register"),
    path("roundtables/<int:roundtable_id>/cancel/", views.cancel, name="cancel"),
    path("roundtables/<int:roundtable_id>/questions/", views.ask, name="ask"),
    path(
        "roundtables/<int:roundtable_id>/questions/<int:question_id>/vote/",
        views.vote,
        name="vote",
    ),
    path("roundtables/<int:roundtable_id>/slides/", views.slides, name="slides"),
    path("roundtables/<int:roundtable_id>/calendar.ics", views.roundtable_ics, name="ics"),
]
