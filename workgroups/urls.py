from django.urls import path

from . import views

app_name = "workgroups"

urlpatterns = [
    path("workgroups/", views.workgroup_list, name="list"),
    path("workgroups/<slug:workgroup_slug>/", views.workgroup_detail, name="detail"),
    path("workgroups/<slug:workgroup_slug>/completeness/", views.completeness, name="completeness"),
    path("measures/<int:measure_id>/", views.measure_detail, name="measure"),
    path("measures/<int:measure_id>/report/", views.measure_report, name="report"),
    path("measures/<int:measure_id>/upload/", views.measure_upload, name="upload"),
    path("my-organization/", views.my_organization, name="my_organization"),
    path("my-organization/goals/add/", views.goal_add, name="goal_add"),
    path("my-organization/goals/submit/", views.goal_set_submit, name="goal_set_submit"),
    path(
        "my-organization/commitments/<int:commitment_id>/", views.commitment_edit, name="commitment"
    ),
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/<int:proposal_id>/endorse/", views.proposal_endorse, name="proposal_endorse"),
]
