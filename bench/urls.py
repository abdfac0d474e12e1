"""The portal's URLs plus the baseline: a bare template view behind the full
middleware stack (mounted only by the bench settings)."""

from django.urls import path
from django.views.generic import TemplateView

from alliance.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("__bench__/bare/", TemplateView.as_view(template_name="bench/bare.html"), name="bare"),
    *portal_urlpatterns,
]
