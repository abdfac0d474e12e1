"""Tenant isolation: the first promise to every alliance."""

import logging
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django_scopes import ScopeError, scope

from alliance.tenancy.permissions import has_alliance_permission
from alliance.tenancy.tasks import TenantTask
from members.models import Organization, Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_unknown_slug_is_404_for_a_logged_in_user(client, tenant_a):
    client.force_login(tenant_a.member)
    assert client.get("/no-such-alliance/").status_code == 404


def test_template_render_runs_inside_the_scope(client, tenant_a):
    # need_help passes a lazy Membership queryset that is first evaluated while
    # the template renders: outside the scope it would raise ScopeError (500).
    client.force_login(tenant_a.member)
    response = client.get(reverse("need_help", args=[tenant_a.alliance.slug]))
    assert response.status_code == 200
    assert tenant_a.staff.full_name in response.content.decode()


def tenant_models():
    return [
        model
        for model in apps.get_models()
        if any(f.name == "alliance" for f in model._meta.get_fields())
        and model._meta.app_label
        in {"alliance", "members", "workgroups", "meetings", "roundtables"}
    ]


def test_every_tenant_model_is_scoped(tenant_a):
    assert tenant_models(), "no tenant models found"
    for model in tenant_models():
        with pytest.raises(ScopeError):
            list(model.objects.all())
        with scope(alliance=tenant_a.alliance):
            list(model.objects.all())


def test_scope_filters_to_its_alliance(tenant_a, tenant_b):
    with scope(alliance=tenant_a.alliance):
        names = set(Organization.objects.values_list("name", flat=True))
    assert names == {tenant_a.organization.name}


# Every scopes_disabled() call site in application code, reviewed. docs/tenancy.md
# lists the same places; adding one means adding it to both, with a reason.
ALLOWED_SCOPES_DISABLED = {
    "alliance/tenancy/middleware.py": 1,  # a superuser's admin request
    "alliance/tenancy/permissions.py": 1,  # the signed-in user's own memberships
    "alliance/notifications/delivery.py": 1,  # an outbox row id from our own queue
}


def test_scopes_disabled_only_at_listed_call_sites():
    found = {}
    for path in settings.BASE_DIR.rglob("*.py"):
        relative = path.relative_to(settings.BASE_DIR).as_posix()
        if relative.startswith((".venv/", "tests/", "var/")):
            continue
        count = path.read_text().count("scopes_disabled()")
        if count:
            found[relative] = count
    assert found == ALLOWED_SCOPES_DISABLED
    doc = Path(settings.BASE_DIR, "docs", "tenancy.md").read_text()
    for relative in ALLOWED_SCOPES_DISABLED:
        assert relative in doc, f"{relative} is not listed in docs/tenancy.md"


class TestPermissions:
    def test_roles(self, tenant_a):
        alliance = tenant_a.alliance
        with scope(alliance=alliance):
            assert has_alliance_permission(tenant_a.member, alliance, "readings.submit")
            assert not has_alliance_permission(tenant_a.member, alliance, "meetings.manage")
            assert has_alliance_permission(tenant_a.staff, alliance, "meetings.manage")
            trustee = MembershipFactory(alliance=alliance, role=Role.TRUSTEE).user
            assert has_alliance_permission(trustee, alliance, "alliance.view")
            assert not has_alliance_permission(trustee, alliance, "readings.submit")

    def test_no_permission_in_another_alliance(self, tenant_a, tenant_b):
        with scope(alliance=tenant_b.alliance):
            assert not has_alliance_permission(tenant_a.staff, tenant_b.alliance, "alliance.view")

    def test_unknown_permission_is_a_bug(self, tenant_a):
        with scope(alliance=tenant_a.alliance), pytest.raises(ValueError):
            has_alliance_permission(tenant_a.member, tenant_a.alliance, "meetings.mange")


def _organization_names(alliance, organization_id):
    return list(Organization.objects.filter(pk=organization_id).values_list("name", flat=True))


@pytest.fixture
def organization_names_task():
    from alliance.celery_app import app

    return app.task(base=TenantTask, name="tests.organization_names", shared=False)(
        _organization_names
    )


class TestTenantTask:
    def test_runs_inside_its_alliance_scope(self, organization_names_task, tenant_a):
        result = organization_names_task.apply(
            args=[tenant_a.alliance.pk, tenant_a.organization.pk]
        )
        assert result.get() == [tenant_a.organization.name]

    def test_given_another_alliances_ids_finds_nothing(
        self, organization_names_task, tenant_a, tenant_b
    ):
        result = organization_names_task.apply(
            args=[tenant_a.alliance.pk, tenant_b.organization.pk]
        )
        assert result.get() == []

    def test_unknown_alliance_logs_an_error_and_does_nothing(self, organization_names_task, caplog):
        with caplog.at_level(logging.ERROR):
            result = organization_names_task.apply(args=[987654, 1])
        assert result.get() is None
        assert "does not exist" in caplog.text

    def test_no_scope_carried_over_between_tasks(self, organization_names_task, tenant_a, tenant_b):
        organization_names_task.apply(args=[tenant_a.alliance.pk, tenant_a.organization.pk])
        with pytest.raises(ScopeError):
            list(Organization.objects.all())
        result = organization_names_task.apply(
            args=[tenant_b.alliance.pk, tenant_b.organization.pk]
        )
        assert result.get() == [tenant_b.organization.name]


class TestPermissionMixin:
    def view(self):
        from django.http import HttpResponse
        from django.views import View

        from alliance.tenancy.permissions import AlliancePermissionRequiredMixin

        class ManageView(AlliancePermissionRequiredMixin, View):
            alliance_permission = "meetings.manage"

            def get(self, request):
                return HttpResponse("managed")

        return ManageView.as_view()

    def request_as(self, rf, user, alliance):
        request = rf.get("/")
        request.user, request.alliance = user, alliance
        return request

    def test_allows_the_role_that_has_the_permission(self, rf, in_scope):
        request = self.request_as(rf, in_scope.staff, in_scope.alliance)
        assert self.view()(request).content == b"managed"

    def test_refuses_a_role_without_it(self, rf, in_scope):
        from django.core.exceptions import PermissionDenied

        request = self.request_as(rf, in_scope.member, in_scope.alliance)
        with pytest.raises(PermissionDenied):
            self.view()(request)


def test_membership_refuses_an_organization_of_another_alliance(tenant_a, tenant_b):
    from django.core.exceptions import ValidationError

    from members.services import membership_upsert

    with scope(alliance=tenant_a.alliance), pytest.raises(ValidationError):
        membership_upsert(
            user=tenant_a.member,
            alliance=tenant_a.alliance,
            role=Role.CEO,
            organization=tenant_b.organization,
        )
    with scope(alliance=tenant_a.alliance):
        tenant_a.membership.refresh_from_db()
        assert tenant_a.membership.organization == tenant_a.organization
