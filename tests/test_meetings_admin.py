"""The meetings admin: changes through the services, no deleting a registered meeting,
and nothing of another alliance's."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.forms import CheckboxInput, MultiWidget
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance.models import Notice
from members.services import staff_group_sync
from sessions.admin import NewRegistrationInline
from sessions.models import Meeting, MeetingChange, Registration
from tests.factories import MeetingFactory, MembershipFactory, RegistrationFactory, UserFactory
from tests.guardrails.snapshot import tenant_rows

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:meetings_meeting_changelist")


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


@pytest.fixture
def superuser_client(client, tenant_a, tenant_b, totp_for):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    totp_for(superuser)
    client.force_login(superuser)
    return client


def act(client, action, *pks, **extra):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def fresh(tenant, pk=None) -> Meeting:
    with scope(alliance=tenant.alliance):
        return Meeting.objects.get(pk=pk or tenant.meeting.pk)


def changes(tenant) -> list[MeetingChange]:
    with scope(alliance=tenant.alliance):
        return list(
            MeetingChange.objects.filter(meeting=tenant.meeting).select_related("changed_by")
        )


def unregistered_meeting(tenant, **kwargs) -> Meeting:
    return MeetingFactory(alliance=tenant.alliance, program_year=tenant.program_year, **kwargs)


def change_form_data(response) -> dict:
    """What the change form would post unchanged: the main form and every inline."""
    data = {}

    def add(form, name):
        field, key = form.fields[name], form.add_prefix(name)
        value = form[name].value()
        if isinstance(field.widget, MultiWidget):
            for index, part in enumerate(field.widget.decompress(value)):
                if part is not None:
                    data[f"{key}_{index}"] = str(part)
        elif isinstance(field.widget, CheckboxInput):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        add(form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            add(management, name)
        for inline_form in formset.initial_forms:
            for name in inline_form.fields:
                add(inline_form, name)
    return data


# Actions
# ------------------------------------------------------------------------------


def test_postpone_action_keeps_the_original_date(staff_client, tenant_a):
    before = fresh(tenant_a)
    response = act(staff_client, "postpone", before.pk)
    assert response.status_code == 302
    after = fresh(tenant_a)
    assert after.status == Meeting.Status.POSTPONED
    assert after.starts_at is None
    assert after.original_starts_at == before.starts_at
    assert after.sequence == before.sequence + 1
    [change] = changes(tenant_a)
    assert (change.kind, change.changed_by) == (MeetingChange.Kind.POSTPONED, tenant_a.staff)
    assert f"“{before.title}” postponed until further notice." in messages_of(response)


def test_move_virtual_action_moves_the_rsvps_too(staff_client, tenant_a):
    before = fresh(tenant_a)
    # The action asks first (join link, note), then acts on "apply".
    assert act(staff_client, "move_virtual", before.pk).status_code == 200
    assert fresh(tenant_a).format == before.format
    response = act(staff_client, "move_virtual", before.pk, apply="1")
    assert response.status_code == 302
    after = fresh(tenant_a)
    assert after.format == Meeting.Format.VIRTUAL
    assert after.sequence == before.sequence + 1
    [change] = changes(tenant_a)
    assert (change.kind, change.changed_by) == (MeetingChange.Kind.MOVED_VIRTUAL, tenant_a.staff)
    with scope(alliance=tenant_a.alliance):
        registration = Registration.objects.get(pk=tenant_a.registration.pk)
    assert registration.response == Registration.Response.VIRTUAL
    # Again: nothing to do, and said so.
    response = act(staff_client, "move_virtual", before.pk, apply="1")
    assert f"“{before.title}” is already virtual." in messages_of(response)
    assert fresh(tenant_a).sequence == after.sequence


def test_cancel_action(staff_client, tenant_a):
    before = fresh(tenant_a)
    assert act(staff_client, "cancel", before.pk).status_code == 200  # asks for a note first
    assert fresh(tenant_a).status == Meeting.Status.SCHEDULED
    act(staff_client, "cancel", before.pk, apply="1")
    after = fresh(tenant_a)
    assert after.status == Meeting.Status.CANCELLED
    assert after.sequence == before.sequence + 1
    [change] = changes(tenant_a)
    assert (change.kind, change.changed_by) == (MeetingChange.Kind.CANCELLED, tenant_a.staff)
    # The service refuses a second cancellation; the admin reports it per meeting.
    response = act(staff_client, "cancel", before.pk, apply="1")
    assert f"“{before.title}”: This meeting is already cancelled." in messages_of(response)
    assert len(changes(tenant_a)) == 1


def test_record_attendance_action(staff_client, tenant_a):
    past = unregistered_meeting(
        tenant_a, starts_at=timezone.now() - datetime.timedelta(days=3), title="Last week"
    )
    registration = RegistrationFactory(
        alliance=tenant_a.alliance, meeting=past, membership=tenant_a.membership
    )
    act(staff_client, "record_attendance", past.pk, tenant_a.meeting.pk)
    with scope(alliance=tenant_a.alliance):
        registration.refresh_from_db()
        assert registration.attended is True
        # The future meeting is left alone.
        assert Registration.objects.get(pk=tenant_a.registration.pk).attended is None


@pytest.mark.parametrize(
    "action",
    [
        "postpone",
        "postpone_to",
        "move_virtual",
        "cancel",
        "send_reminders_now",
        "duplicate",
        "record_attendance",
        "record_attendance_bulk",
        "standard_agenda",
        "delete_selected",
    ],
)
def test_actions_ignore_another_alliances_meetings(staff_client, tenant_b, action):
    before = tenant_rows(tenant_b.alliance)
    response = act(
        staff_client,
        action,
        tenant_b.meeting.pk,
        post="yes",
        apply="1",
        day="2031-05-01",
        start="10:00",
        attended=[str(tenant_b.registration.pk)],
    )
    assert response.status_code in (200, 302)
    assert tenant_rows(tenant_b.alliance) == before


# Deleting
# ------------------------------------------------------------------------------


def test_delete_view_refuses_a_meeting_with_registrations(staff_client, tenant_a):
    url = reverse("admin:meetings_meeting_delete", args=[tenant_a.meeting.pk])
    for response in (staff_client.get(url), staff_client.post(url, {"post": "yes"})):
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:meetings_meeting_change", args=[tenant_a.meeting.pk]
        )
        assert any("cancel or postpone it instead" in m for m in messages_of(response))
    assert fresh(tenant_a)
    # And the change form offers no delete link.
    page = staff_client.get(reverse("admin:meetings_meeting_change", args=[tenant_a.meeting.pk]))
    assert url not in page.content.decode()


def test_bulk_delete_refuses_a_meeting_with_registrations(staff_client, tenant_a):
    other = unregistered_meeting(tenant_a, title="Nobody registered")
    # The confirmation page lists only the meeting nobody registered for.
    response = act(staff_client, "delete_selected", tenant_a.meeting.pk, other.pk)
    assert response.status_code == 200
    assert list(response.context["queryset"]) == [other]
    assert any("cancel or postpone it instead" in m for m in messages_of(response))
    # Confirming with both selected still deletes only that one.
    response = act(staff_client, "delete_selected", tenant_a.meeting.pk, other.pk, post="yes")
    assert response.status_code == 302
    assert fresh(tenant_a)
    with scope(alliance=tenant_a.alliance):
        assert not Meeting.objects.filter(pk=other.pk).exists()


def test_bulk_delete_of_only_registered_meetings_deletes_nothing(staff_client, tenant_a):
    response = act(staff_client, "delete_selected", tenant_a.meeting.pk, post="yes")
    assert response.status_code == 302
    assert fresh(tenant_a)
    assert any("cancel or postpone it instead" in m for m in messages_of(response))


def test_a_meeting_without_registrations_can_be_deleted(staff_client, tenant_a):
    meeting = unregistered_meeting(tenant_a, title="Created by mistake")
    url = reverse("admin:meetings_meeting_delete", args=[meeting.pk])
    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert not Meeting.objects.filter(pk=meeting.pk).exists()


# The change form
# ------------------------------------------------------------------------------


def test_status_is_read_only_and_a_new_start_is_a_recorded_reschedule(staff_client, tenant_a):
    url = reverse("admin:meetings_meeting_change", args=[tenant_a.meeting.pk])
    response = staff_client.get(url)
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert "format" not in form.fields  # someone registered: "Move to virtual"
    assert "starts_at" in form.fields

    before = fresh(tenant_a)
    data = change_form_data(response)
    new_start = before.starts_at + datetime.timedelta(days=7)
    local = timezone.localtime(new_start)
    data.update(
        {
            "title": "Renamed session",
            "starts_at_0": local.date().isoformat(),
            "starts_at_1": local.time().isoformat(),
            "ends_at_0": (local + datetime.timedelta(hours=3)).date().isoformat(),
            "ends_at_1": (local + datetime.timedelta(hours=3)).time().isoformat(),
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    after = fresh(tenant_a)
    assert after.title == "Renamed session"
    assert after.starts_at == new_start
    assert after.original_starts_at == before.starts_at
    assert after.status == Meeting.Status.SCHEDULED
    assert after.sequence == before.sequence + 1
    [change] = changes(tenant_a)
    assert change.changed_by == tenant_a.staff
    assert change.new_starts_at == new_start


def test_saving_the_form_unchanged_records_no_change(staff_client, tenant_a):
    url = reverse("admin:meetings_meeting_change", args=[tenant_a.meeting.pk])
    data = change_form_data(staff_client.get(url))
    assert staff_client.post(url, data).status_code == 302
    assert changes(tenant_a) == []
    assert fresh(tenant_a).sequence == tenant_a.meeting.sequence


def new_registrations(response):
    """The formset that registers members (empty until rows are added)."""
    return next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if isinstance(i.opts, NewRegistrationInline)
    )


def register_row(data, formset, membership, meeting) -> dict:
    prefix = formset.prefix
    return {
        **data,
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-0-membership": str(membership.pk),
        f"{prefix}-0-response": Registration.Response.IN_PERSON,
        f"{prefix}-0-meeting": str(meeting.pk),
    }


def test_inline_rows_take_only_the_meetings_alliances_members(superuser_client, tenant_a, tenant_b):
    # A superuser sees every alliance: the inline must still keep to the meeting's.
    url = reverse("admin:meetings_meeting_change", args=[tenant_a.meeting.pk])
    response = superuser_client.get(url)
    formset = new_registrations(response)
    with scopes_disabled():  # a test looking across alliances
        choices = formset.empty_form.fields["membership"].queryset
        assert {m.alliance_id for m in choices} == {tenant_a.alliance.pk}

    data = register_row(change_form_data(response), formset, tenant_b.membership, tenant_a.meeting)
    before = tenant_rows(tenant_b.alliance)
    response = superuser_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert b"Select a valid choice" in response.content
    assert tenant_rows(tenant_b.alliance) == before
    with scope(alliance=tenant_a.alliance):
        assert Registration.objects.filter(meeting=tenant_a.meeting).count() == 1


def test_a_registration_added_inline_gets_the_meetings_alliance(staff_client, tenant_a):
    quality = MembershipFactory(
        alliance=tenant_a.alliance, organization=tenant_a.organization, role="quality_lead"
    )
    url = reverse("admin:meetings_meeting_change", args=[tenant_a.meeting.pk])
    response = staff_client.get(url)
    data = register_row(
        change_form_data(response), new_registrations(response), quality, tenant_a.meeting
    )
    assert staff_client.post(url, data).status_code == 302
    with scope(alliance=tenant_a.alliance):
        registration = Registration.objects.get(membership=quality)
    assert registration.alliance == tenant_a.alliance


# Other alliances
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["meetings_meeting", "meetings_registration", "alliance_notice"])
def test_changelists_show_only_own_alliance(staff_client, tenant_a, tenant_b, name):
    response = staff_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    shown = {row.alliance_id for row in response.context["cl"].result_list}
    assert shown == {tenant_a.alliance.pk}
    page = response.content.decode()
    assert tenant_b.meeting.title not in page
    assert tenant_b.member.full_name not in page


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("meetings_meeting", "meeting"),
        ("meetings_registration", "registration"),
        ("alliance_notice", "notice"),
    ],
)
def test_another_alliances_rows_are_not_reachable(staff_client, tenant_b, name, row):
    before = tenant_rows(tenant_b.alliance)
    pk = getattr(tenant_b, row).pk
    for view in ("change", "delete"):
        url = reverse(f"admin:{name}_{view}", args=[pk])
        # Redirected as "does not exist", or 403 where staff may not delete at all.
        assert staff_client.get(url).status_code in (302, 403, 404)
        response = staff_client.post(url, {"post": "yes", "title": "hijacked"})
        assert response.status_code in (302, 403, 404)
    assert tenant_rows(tenant_b.alliance) == before


def test_meeting_form_offers_only_own_rows(staff_client, tenant_a, tenant_b):
    page = staff_client.get(reverse("admin:meetings_meeting_add")).content.decode()
    assert tenant_a.organization.name in page
    assert tenant_b.organization.name not in page
    assert tenant_b.workgroup.name not in page


def test_staff_group_rights(tenant_a):
    group = staff_group_sync()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"delete_meeting", "view_meetingchange", "add_registration", "delete_notice"} <= (
        codenames
    )
    assert not {"add_meetingchange", "change_meetingchange", "delete_registration"} & codenames
    with scope(alliance=tenant_a.alliance):
        assert Notice.objects.filter(alliance=tenant_a.alliance).exists()


def test_a_full_session_renders_and_saves_unchanged(staff_client, tenant_a):
    """The standard agenda, a guest, registrants and changes: no N+1 (zeal), no change."""
    from sessions import services
    from tests.factories import SpeakerFactory

    with scope(alliance=tenant_a.alliance):
        guest = SpeakerFactory(alliance=tenant_a.alliance, name="Dr. Elena Marsh")
        session = services.cop_session_create(
            program_year=tenant_a.program_year,
            host=tenant_a.organization,
            starts_at=timezone.now() + datetime.timedelta(days=40),
            time_zone="America/New_York",
            topic="Measurement",
            guest=guest,
        )
        for role, kind in (("ceo", "game_plan"), ("quality_lead", "host_example")):
            member = MembershipFactory(
                alliance=tenant_a.alliance, organization=tenant_a.organization, role=role
            )
            services.registration_respond(
                meeting=session, membership=member, response=Registration.Response.IN_PERSON
            )
            session.agenda.filter(kind=kind).update(presenter_member=member)
        services.meeting_move_virtual(meeting=session, by=tenant_a.staff)
        services.meeting_postpone(meeting=session, by=tenant_a.staff)
        sequence = Meeting.objects.get(pk=session.pk).sequence
    url = reverse("admin:meetings_meeting_change", args=[session.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dr. Elena Marsh" in page
    assert "Moved to virtual" in page
    assert staff_client.post(url, change_form_data(response)).status_code == 302
    assert fresh(tenant_a, session.pk).sequence == sequence


@pytest.mark.parametrize("bad", ["abc", "9" * 60, "-1"])
def test_a_malformed_member_id_is_a_form_error(staff_client, tenant_a, bad):
    url = reverse("admin:meetings_meeting_change", args=[tenant_a.meeting.pk])
    response = staff_client.get(url)
    data = change_form_data(response)
    prefix = new_registrations(response).prefix
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-membership": bad,
            f"{prefix}-0-response": Registration.Response.IN_PERSON,
            f"{prefix}-0-meeting": str(tenant_a.meeting.pk),
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_standard_agenda_action(client, tenant_a, totp_for):
    from django.urls import reverse
    from django_scopes import scope

    from tests.factories import MeetingFactory

    meeting = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        discussion_topic="Physician engagement",
    )
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "standard_agenda", "_selected_action": [meeting.pk]},
    )
    with scope(alliance=tenant_a.alliance):
        titles = list(meeting.agenda.values_list("title", flat=True))
    assert "Discussion: Physician engagement" in titles and len(titles) == 6
    # A second time it refuses: the meeting already has an agenda.
    client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "standard_agenda", "_selected_action": [meeting.pk]},
    )
    with scope(alliance=tenant_a.alliance):
        assert meeting.agenda.count() == 6
