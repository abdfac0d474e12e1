"""Change history (docs/history.md): every staff change has a row with who and when,
bulk changes included, and nobody reads another alliance's history."""

import contextlib
import datetime

import pytest
from django.conf import settings
from django.contrib.admin import AdminSite
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone
from django_scopes import ScopeError, scope
from simple_history.models import HistoricalRecords

from alliance import urls as project_urls
from alliance.notifications.unsubscribe import unsubscribe_apply
from alliance.tenancy.admin import TenantAdmin, TenantHistoryAdmin
from alliance.tenancy.history import history_paused
from members.models import DigestPreference, Membership
from members.services import membership_deactivate
from roundtables import services as roundtable_services
from roundtables.models import RoundtableRegistration
from sessions import services as meeting_services
from sessions.models import AgendaItem, Meeting, Registration
from tests.factories import MeetingFactory, MembershipFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

# The tracked objects of a tenant (conftest.Tenant), and a field a staff edit changes.
TRACKED = {
    "meeting": ("title", "Retitled"),
    "agenda_item": ("title", "Retitled item"),
    "registration": ("response", Registration.Response.VIRTUAL),
    "aim": ("statement", "A restated aim"),
    "measure": ("unit", "per 100"),
    "reading": ("note", "Corrected"),
    "goal": ("statement", "A restated goal"),
    "membership": ("title", "Chief executive"),
    "roundtable": ("topic", "A new topic"),
    "roundtable_registration": ("attended", True),
}


def tracked(tenant, name):
    return tenant.goal.goal_set if name == "goal_set" else getattr(tenant, name)


@contextlib.contextmanager
def acting_as(user, rf):
    """What HistoryRequestMiddleware does for a request of `user`."""
    request = rf.post("/admin/")
    request.user = user
    HistoricalRecords.context.request = request
    try:
        yield
    finally:
        del HistoricalRecords.context.request


def latest(obj):
    return obj.history.select_related("history_user").first()


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def act(client, changelist, action, *pks):
    return client.post(
        reverse(changelist), {"action": action, "_selected_action": [str(pk) for pk in pks]}
    )


# Who and when, for every tracked model
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*TRACKED, "goal_set"])
def test_a_staff_change_records_who_and_when(in_scope, rf, name):
    tenant = in_scope
    obj = tracked(tenant, name)
    before = obj.history.count()
    assert before >= 1, "the row's creation is recorded too"
    if name == "goal_set":
        obj.submitted_at = timezone.now()
    else:
        field, value = TRACKED[name]
        setattr(obj, field, value)
    started = timezone.now()
    with acting_as(tenant.staff, rf):
        obj.save()
    assert obj.history.count() == before + 1
    row = latest(obj)
    assert row.history_type == "~"
    assert row.history_user == tenant.staff
    assert started <= row.history_date <= timezone.now()
    assert row.instance.pk == obj.pk


def test_an_admin_request_records_the_signed_in_staff_user(staff_client, tenant_a):
    # The middleware, end to end: an admin action of A's staff.
    response = act(
        staff_client, "admin:meetings_meeting_changelist", "postpone", tenant_a.meeting.pk
    )
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        row = latest(tenant_a.meeting)
        assert (row.history_type, row.status) == ("~", Meeting.Status.POSTPONED)
        assert row.history_user == tenant_a.staff


def test_demo_data_records_no_history(in_scope):
    before = Meeting.history.count()
    with history_paused():
        meeting = MeetingFactory(alliance=in_scope.alliance, program_year=in_scope.program_year)
        meeting.save()
    assert Meeting.history.count() == before
    meeting.save()  # recording resumes after the block
    assert Meeting.history.count() == before + 1


# Bulk changes: one row per changed row
# ------------------------------------------------------------------------------


def registrants(tenant, meeting, count, response=Registration.Response.IN_PERSON):
    return [
        RegistrationFactory(
            alliance=tenant.alliance,
            meeting=meeting,
            membership=MembershipFactory(alliance=tenant.alliance),
            response=response,
        )
        for _ in range(count)
    ]


def test_move_virtual_records_each_moved_registration(in_scope):
    tenant = in_scope
    meeting = MeetingFactory(alliance=tenant.alliance, program_year=tenant.program_year)
    moved = registrants(tenant, meeting, 3)
    [declined] = registrants(tenant, meeting, 1, Registration.Response.NOT_ATTENDING)
    meeting_services.meeting_move_virtual(meeting=meeting, by=tenant.staff)
    for registration in moved:
        row = latest(registration)
        assert (row.history_type, row.response) == ("~", Registration.Response.VIRTUAL)
        assert row.history_user == tenant.staff  # the service's `by`, no request needed
    assert declined.history.count() == 1  # its creation only: it did not change
    assert latest(meeting).history_user == tenant.staff


def test_move_virtual_queries_do_not_grow_with_registrations(in_scope):
    tenant = in_scope

    def queries_for(count):
        meeting = MeetingFactory(alliance=tenant.alliance, program_year=tenant.program_year)
        registrants(tenant, meeting, count)
        with CaptureQueriesContext(connection) as captured:
            meeting_services.meeting_move_virtual(meeting=meeting, by=tenant.staff)
        # The registrations and their history (the notices queue a row per registrant:
        # the outbox's own matter, not history's).
        return [
            q["sql"].split()[0]
            for q in captured
            if '"meetings_registration"' in q["sql"]
            or '"meetings_historicalregistration"' in q["sql"]
        ]

    assert queries_for(2) == queries_for(12)


def test_record_attendance_records_each_changed_registration(staff_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        past = MeetingFactory(
            alliance=tenant_a.alliance,
            program_year=tenant_a.program_year,
            starts_at=timezone.now() - datetime.timedelta(days=3),
        )
        came, stayed_away = registrants(tenant_a, past, 2)
    # The admin's action: everyone registered came.
    act(staff_client, "admin:meetings_meeting_changelist", "record_attendance", past.pk)
    with scope(alliance=tenant_a.alliance):
        for registration in (came, stayed_away):
            row = latest(registration)
            assert (row.attended, row.history_user) == (True, tenant_a.staff)
        counts = {r.pk: r.history.count() for r in (came, stayed_away)}
        # Staff correct it: only the row whose answer changes gets a row.
        meeting_services.attendance_record(meeting=past, attended={came.membership_id})
        assert came.history.count() == counts[came.pk]
        assert stayed_away.history.count() == counts[stayed_away.pk] + 1
        assert latest(stayed_away).attended is False


def test_roundtable_attendance_records_each_changed_registration(in_scope):
    tenant = in_scope
    seat = tenant.roundtable_registration
    before = seat.history.count()
    came = roundtable_services.attendance_record(
        roundtable=tenant.roundtable, attended={seat.membership_id}
    )
    assert came == 1
    assert seat.history.count() == before + 1
    assert latest(seat).attended is True
    roundtable_services.attendance_record(
        roundtable=tenant.roundtable, attended={seat.membership_id}
    )
    assert seat.history.count() == before + 1  # nothing changed, nothing recorded


def test_deactivating_members_in_the_admin_records_each(staff_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        others = [MembershipFactory(alliance=tenant_a.alliance) for _ in range(2)]
    act(
        staff_client,
        "admin:members_membership_changelist",
        "deactivate",
        *[m.pk for m in others],
    )
    with scope(alliance=tenant_a.alliance):
        for membership in others:
            row = latest(membership)
            assert (row.is_active, row.history_user) == (False, tenant_a.staff)


def test_membership_services_record_history(in_scope, rf):
    tenant = in_scope
    membership = tenant.membership
    before = membership.history.count()
    with acting_as(tenant.member, rf):
        meeting_services.calendar_feed_revoke(membership=membership)
    row = latest(membership)
    assert (row.calendar_feed_version, row.history_user) == (1, tenant.member)
    membership_deactivate(membership=membership)
    assert latest(membership).is_active is False
    assert membership.history.count() == before + 2


def test_one_click_unsubscribe_records_the_member_once(tenant_a):
    membership = Membership.objects.with_scope(alliance=tenant_a.alliance).get(
        pk=tenant_a.membership.pk
    )
    with scope(alliance=tenant_a.alliance):
        before = membership.history.count()
    # No scope and no session: the one-click POST of a mail client.
    unsubscribe_apply(membership=membership, what="digest")
    unsubscribe_apply(membership=membership, what="digest")
    with scope(alliance=tenant_a.alliance):
        assert membership.history.count() == before + 1
        row = latest(membership)
    assert (row.digest, row.history_user) == (DigestPreference.OFF, tenant_a.member)


# Tenancy of history rows
# ------------------------------------------------------------------------------


def test_history_rows_are_scoped(tenant_a, tenant_b):
    HistoricalMeeting = Meeting.history.model
    with pytest.raises(ScopeError):
        list(HistoricalMeeting.objects.all())
    with pytest.raises(ScopeError):
        list(Meeting.history.all())
    with scope(alliance=tenant_a.alliance):
        assert {r.id for r in Meeting.history.all()} == {tenant_a.meeting.pk}
        assert {r.id for r in HistoricalMeeting.objects.all()} == {tenant_a.meeting.pk}
        # Through a parent: an agenda item's history follows its meeting's alliance.
        assert {r.id for r in AgendaItem.history.all()} == {tenant_a.agenda_item.pk}
        assert not RoundtableRegistration.history.filter(id=tenant_b.roundtable_registration.pk)


class _MeetingHistoryAdmin(TenantAdmin, TenantHistoryAdmin):
    pass


# A throwaway admin site that uses the mixin (the real admins adopt it in their own
# files), served in place of the real one by this module as URLconf, so requests
# pass through the real middleware: A's staff scope and the history user.
history_site = AdminSite(name="admin")
history_site.register(Meeting, _MeetingHistoryAdmin)
urlpatterns = [
    path(settings.ADMIN_URL, history_site.urls),
    *[p for p in project_urls.urlpatterns if getattr(p, "app_name", None) != "admin"],
]
with_history_admin = pytest.mark.urls(__name__)


def history_url(meeting, version=None):
    if version is None:
        return reverse("admin:meetings_meeting_history", args=[meeting])
    return reverse("admin:meetings_meeting_simple_history", args=[meeting, version])


def version_of(tenant):
    with scope(alliance=tenant.alliance):
        return latest(tenant.meeting).history_id


@with_history_admin
def test_history_of_another_alliances_object_is_404(staff_client, tenant_b):
    theirs = tenant_b.meeting.pk
    assert staff_client.get(history_url(theirs)).status_code == 404
    assert staff_client.get(history_url(theirs, version_of(tenant_b))).status_code == 404
    response = staff_client.post(history_url(theirs, version_of(tenant_b)), {"title": "Mine"})
    assert response.status_code == 404


@with_history_admin
def test_own_history_is_shown_but_not_another_alliances_version(staff_client, tenant_a, tenant_b):
    ours = tenant_a.meeting.pk
    response = staff_client.get(history_url(ours))
    assert response.status_code == 200
    assert tenant_a.meeting.title in response.content.decode()
    assert staff_client.get(history_url(ours, version_of(tenant_a))).status_code == 200
    # B's version id under A's object, a malformed version, a malformed object id.
    assert staff_client.get(history_url(ours, version_of(tenant_b))).status_code == 404
    assert staff_client.get(history_url(ours, "not-a-number")).status_code == 404
    assert staff_client.get(history_url("not-a-number")).status_code == 404


@with_history_admin
def test_reverting_from_history_is_refused(staff_client, tenant_a):
    url = history_url(tenant_a.meeting.pk, version_of(tenant_a))
    assert staff_client.post(url, {"title": "Reverted"}).status_code == 403
    with scope(alliance=tenant_a.alliance):
        assert Meeting.objects.get(pk=tenant_a.meeting.pk).title == tenant_a.meeting.title


def test_the_mixin_checks_the_object_before_delegating(rf, tenant_a, tenant_b):
    # The same check without a URLconf: the methods themselves refuse B's object.
    model_admin = history_site.get_model_admin(Meeting)
    request = rf.get("/admin/")
    request.user = tenant_a.staff
    request.staff_alliance_ids = [tenant_a.alliance.pk]
    with scope(alliance=[tenant_a.alliance.pk]):
        with pytest.raises(Http404):
            model_admin.history_view(request, str(tenant_b.meeting.pk))
        with pytest.raises(Http404):
            model_admin.history_form_view(request, str(tenant_b.meeting.pk), "1")
