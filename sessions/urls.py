from django.urls import path

from . import calendar_views, views

app_name = "meetings"

urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/hosts/", views.host_rotation, name="host_rotation"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("meetings/<int:meeting_id>/rsvp/", views.rsvp, name="rsvp"),
    path("meetings/<int:meeting_id>/calendar.ics", calendar_views.meeting_ics, name="ics"),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
]
