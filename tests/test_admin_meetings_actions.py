"""The meetings and roundtables admin's actions: what each changes, the notices it
queues, what it logs, the CSV exports, and nothing of another alliance's."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance.models import OutgoingEmail
from members.models import Role
from roundtables.models import Question, QuestionVote, Roundtable, RoundtableRegistration
from sessions.models import AgendaItem, Guest, Meeting, MeetingChange, Registration
from tests.factories import (
    AgendaItemFactory,
    MeetingFactory,
    MembershipFactory,
    OrganizationFactory,
    QuestionFactory,
    QuestionVoteFactory,
    RegistrationFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
    SpeakerFactory,
)
from tests.guardrails.snapshot import tenant_rows

pytestmark = pytest.mark.django_db

MEETINGS = reverse("admin:meetings_meeting_changelist")
ROUNDTABLES = reverse("admin:roundtables_roundtable_changelist")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def act(client, action, *pks, changelist=MEETINGS, **extra):
    return client.post(
        changelist, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def outbox(**filters) -> list[OutgoingEmail]:
    with scopes_disabled():
        return list(OutgoingEmail.objects.filter(**filters).order_by("pk"))


def fresh(tenant, pk) -> Meeting:
    with scope(alliance=tenant.alliance):
        return Meeting.objects.get(pk=pk)


def log_messages(obj) -> list[str]:
    return list(
        LogEntry.objects.filter(object_id=str(obj.pk), content_type__model=obj._meta.model_name)
        .order_by("pk")
        .values_list("change_message", flat=True)
    )


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# Postpone, move to virtual, cancel: through the services, with notices
# ------------------------------------------------------------------------------


def test_postpone_to_a_new_date_in_the_meetings_zone(staff_client, tenant_a):
    before = fresh(tenant_a, tenant_a.meeting.pk)
    form = act(staff_client, "postpone_to", before.pk)
    assert form.status_code == 200 and "New date" in form.content.decode()
    assert fresh(tenant_a, before.pk).sequence == before.sequence  # asking changes nothing

    response = act(
        staff_client,
        "postpone_to",
        before.pk,
        apply="1",
        day="2031-05-06",
        start="09:30",
        note="The venue flooded.",
    )
    assert response.status_code == 302
    after = fresh(tenant_a, before.pk)
    assert after.starts_at == datetime.datetime(2031, 5, 6, 9, 30, tzinfo=NEW_YORK)
    assert after.ends_at - after.starts_at == before.ends_at - before.starts_at
    assert after.original_starts_at == before.starts_at
    assert (after.status, after.sequence) == (Meeting.Status.SCHEDULED, before.sequence + 1)
    with scope(alliance=tenant_a.alliance):
        change = MeetingChange.objects.get(meeting=after)
    assert (change.note, change.changed_by) == ("The venue flooded.", tenant_a.staff)
    [notice] = outbox(kind="meeting_change")
    assert notice.recipient == tenant_a.member.email
    assert "The venue flooded." in notice.text_body
    assert any("postponed to 2031-05-06 09:30 EDT" in m for m in messages_of(response))
    assert "Postponed to 2031-05-06 09:30 EDT. Note: The venue flooded." in log_messages(after)


def test_postpone_without_a_date_is_until_further_notice(staff_client, tenant_a):
    response = act(staff_client, "postpone_to", tenant_a.meeting.pk, apply="1", note="COVID-19")
    assert response.status_code == 302
    after = fresh(tenant_a, tenant_a.meeting.pk)
    assert (after.status, after.starts_at) == (Meeting.Status.POSTPONED, None)
    assert len(outbox(kind="meeting_change")) == 1
    assert log_messages(after) == ["Postponed until further notice. Note: COVID-19"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"day": "2031-05-06"}, "Give the new start time"),
        ({"start": "09:00"}, "Give the new date"),
        ({"day": "2031-05-06", "start": "10:00", "end": "09:00"}, "must come after"),
        ({"day": "2031-02-30", "start": "10:00"}, "Enter a valid date"),
    ],
)
def test_postpone_form_errors_change_nothing(staff_client, tenant_a, fields, error):
    response = act(staff_client, "postpone_to", tenant_a.meeting.pk, apply="1", **fields)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert fresh(tenant_a, tenant_a.meeting.pk).sequence == tenant_a.meeting.sequence
    assert outbox(kind="meeting_change") == []


def test_move_virtual_with_a_join_link_and_note(staff_client, tenant_a):
    response = act(
        staff_client,
        "move_virtual",
        tenant_a.meeting.pk,
        apply="1",
        join_url="https://video.example.org/new-room",
        note="Travel is off.",
    )
    assert response.status_code == 302
    after = fresh(tenant_a, tenant_a.meeting.pk)
    assert (after.format, after.join_url) == (
        Meeting.Format.VIRTUAL,
        "https://video.example.org/new-room",
    )
    [notice] = outbox(kind="meeting_change")
    assert "Travel is off." in notice.text_body
    assert log_messages(after)[-1].startswith("Moved to virtual")


def test_move_virtual_refuses_a_bad_link(staff_client, tenant_a):
    response = act(
        staff_client, "move_virtual", tenant_a.meeting.pk, apply="1", join_url="javascript:x"
    )
    assert response.status_code == 200
    assert fresh(tenant_a, tenant_a.meeting.pk).format == Meeting.Format.HYBRID


def test_cancel_with_a_note(staff_client, tenant_a):
    response = act(staff_client, "cancel", tenant_a.meeting.pk, apply="1", note="Sorry.")
    assert response.status_code == 302
    assert fresh(tenant_a, tenant_a.meeting.pk).status == Meeting.Status.CANCELLED
    [notice] = outbox(kind="meeting_change")
    assert notice.recipient == tenant_a.member.email
    assert log_messages(tenant_a.meeting) == ["Cancelled. Note: Sorry."]


# Send reminders now
# ------------------------------------------------------------------------------


def test_send_reminders_now_once_per_meeting_and_day(staff_client, tenant_a):
    meeting = tenant_a.meeting
    quiet = MembershipFactory(alliance=tenant_a.alliance, role=Role.CEO, reminders=False)
    declined = MembershipFactory(alliance=tenant_a.alliance, role=Role.CEO)
    RegistrationFactory(alliance=tenant_a.alliance, meeting=meeting, membership=quiet)
    RegistrationFactory(
        alliance=tenant_a.alliance,
        meeting=meeting,
        membership=declined,
        response=Registration.Response.NOT_ATTENDING,
    )
    response = act(staff_client, "send_reminders_now", meeting.pk)
    assert response.status_code == 302
    [reminder] = outbox(kind="meeting_reminder")
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(tenant_a.alliance.time_zone)).date()
    assert (reminder.recipient, reminder.key) == (tenant_a.member.email, f"manual@{today}")
    assert reminder.subject.startswith(f"Reminder: {meeting.title}")
    assert "List-Unsubscribe" in reminder.headers
    assert f"“{meeting.title}”: 1 reminder(s) queued." in messages_of(response)
    assert log_messages(meeting) == ["Reminders sent now: 1 reminder(s) queued."]

    # Pressed again the same day: nothing more, and said so.
    response = act(staff_client, "send_reminders_now", meeting.pk)
    assert len(outbox(kind="meeting_reminder")) == 1
    assert any("no reminder queued" in m for m in messages_of(response))


def test_send_reminders_now_skips_meetings_not_ahead(staff_client, tenant_a):
    past = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        starts_at=timezone.now() - datetime.timedelta(days=2),
    )
    RegistrationFactory(alliance=tenant_a.alliance, meeting=past, membership=tenant_a.membership)
    response = act(staff_client, "send_reminders_now", past.pk)
    assert outbox(kind="meeting_reminder") == []
    assert f"“{past.title}” is not scheduled ahead: no reminders sent." in messages_of(response)


# Duplicate to a new date
# ------------------------------------------------------------------------------


def test_duplicate_copies_agenda_and_guests_with_a_new_uid(staff_client, tenant_a):
    meeting = tenant_a.meeting
    guest = SpeakerFactory(alliance=tenant_a.alliance, name="Dr. Ada Guest")
    with scope(alliance=tenant_a.alliance):
        Guest.objects.create(meeting=meeting, speaker=guest, joins_dinner=True)
        AgendaItem.objects.filter(pk=tenant_a.agenda_item.pk).update(
            starts_at=meeting.starts_at + datetime.timedelta(minutes=30)
        )
    assert act(staff_client, "duplicate", meeting.pk).status_code == 200  # asks for the date

    response = act(
        staff_client, "duplicate", meeting.pk, apply="1", day="2031-09-18", start="08:00"
    )
    assert response.status_code == 302
    new_start = datetime.datetime(2031, 9, 18, 8, 0, tzinfo=NEW_YORK)
    with scope(alliance=tenant_a.alliance):
        copy = Meeting.objects.exclude(pk=meeting.pk).get(title=meeting.title)
        assert response["Location"] == reverse("admin:meetings_meeting_change", args=[copy.pk])
        assert copy.starts_at == new_start
        assert copy.ends_at - copy.starts_at == meeting.ends_at - meeting.starts_at
        assert copy.uid != meeting.uid and copy.sequence == 0
        assert copy.status == Meeting.Status.SCHEDULED and copy.original_starts_at is None
        assert (copy.kind, copy.format, copy.venue, copy.audience) == (
            meeting.kind,
            meeting.format,
            meeting.venue,
            meeting.audience,
        )
        assert not copy.registrations.exists()
        [item] = copy.agenda.all()
        assert item.title == tenant_a.agenda_item.title
        assert item.starts_at == new_start + datetime.timedelta(minutes=30)
        assert [(g.speaker, g.joins_dinner) for g in copy.guest_links.all()] == [(guest, True)]
        # The original is untouched.
        assert meeting.agenda.count() == 1 and meeting.registrations.count() == 1
    assert log_messages(copy)[0].startswith("Duplicated from")


def test_duplicate_takes_one_meeting(staff_client, tenant_a):
    other = MeetingFactory(alliance=tenant_a.alliance, program_year=tenant_a.program_year)
    response = act(
        staff_client, "duplicate", tenant_a.meeting.pk, other.pk, apply="1", day="2031-01-01"
    )
    assert "Choose one meeting to duplicate." in messages_of(response)
    with scope(alliance=tenant_a.alliance):
        assert Meeting.objects.count() == 2


# A community-of-practice session from the template
# ------------------------------------------------------------------------------

COP = reverse("admin:meetings_meeting_cop_session")


def cop_data(tenant, **overrides):
    return {
        "program_year": tenant.program_year.pk,
        "host": tenant.organization.pk,
        "day": "2031-04-17",
        "start": "09:00",
        "time_zone": "America/Chicago",
        "topic": "Physician engagement",
        "guest": tenant.speaker.pk,
        "dinner": "18:30",
        "dinner_place": "The Club",
        **overrides,
    }


def test_cop_session_from_the_template(staff_client, tenant_a, tenant_b):
    page = staff_client.get(COP)
    assert page.status_code == 200
    text = page.content.decode()
    assert tenant_a.organization.name in text and tenant_b.organization.name not in text
    assert tenant_b.speaker.name not in text
    assert COP in staff_client.get(MEETINGS).content.decode()  # the changelist's button

    response = staff_client.post(COP, cop_data(tenant_a))
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        meeting = Meeting.objects.get(kind=Meeting.Kind.COP_SESSION)
        assert response["Location"] == reverse("admin:meetings_meeting_change", args=[meeting.pk])
        chicago = zoneinfo.ZoneInfo("America/Chicago")
        assert meeting.starts_at == datetime.datetime(2031, 4, 17, 9, 0, tzinfo=chicago)
        assert meeting.dinner_at == datetime.datetime(2031, 4, 17, 18, 30, tzinfo=chicago)
        assert meeting.host_organization == tenant_a.organization
        assert meeting.agenda.count() == 6
        assert meeting.guest_links.get().speaker == tenant_a.speaker
        assert not meeting.substitutes_allowed
    assert log_messages(meeting) == ["Created from the community-of-practice template."]


@pytest.mark.parametrize("field", ["host", "guest", "program_year"])
def test_cop_session_refuses_another_alliances_rows(staff_client, tenant_a, tenant_b, field):
    row = {"host": tenant_b.organization, "guest": tenant_b.speaker}.get(
        field, tenant_b.program_year
    )
    before = tenant_rows(tenant_b.alliance)
    response = staff_client.post(COP, cop_data(tenant_a, **{field: row.pk}))
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    with scope(alliance=tenant_a.alliance):
        assert not Meeting.objects.filter(kind=Meeting.Kind.COP_SESSION).exists()
    assert tenant_rows(tenant_b.alliance) == before


# Exports
# ------------------------------------------------------------------------------


def test_export_registrations_csv(staff_client, tenant_a, tenant_b):
    tenant_a.member.full_name = '=HYPERLINK("https://evil.example")'
    tenant_a.member.save()
    response = act(staff_client, "export_registrations", tenant_a.meeting.pk, tenant_b.meeting.pk)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == [
        "meeting",
        "date",
        "member",
        "email",
        "organization",
        "role",
        "response",
        "attended",
    ]
    assert rows == [
        [
            tenant_a.meeting.title,
            f"{tenant_a.meeting.starts_at.astimezone(NEW_YORK):%Y-%m-%d %H:%M %Z}",
            '\'=HYPERLINK("https://evil.example")',
            tenant_a.member.email,
            tenant_a.organization.name,
            "CEO",
            "Attending in person",
            "",
        ]
    ]


def test_csv_cells_that_look_like_formulas_are_quoted():
    from sessions.admin import csv_cell

    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("Dr. Marsh") == "Dr. Marsh"
    assert (csv_cell(None), csv_cell(True), csv_cell(False), csv_cell(3)) == ("", "yes", "no", "3")


# Attendance in bulk
# ------------------------------------------------------------------------------


def test_record_attendance_by_ticking_who_came(staff_client, tenant_a):
    past = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        starts_at=timezone.now() - datetime.timedelta(days=3),
        title="Last week",
    )
    came = RegistrationFactory(
        alliance=tenant_a.alliance, meeting=past, membership=tenant_a.membership
    )
    absent = RegistrationFactory(alliance=tenant_a.alliance, meeting=past)
    page = act(staff_client, "record_attendance_bulk", past.pk, tenant_a.meeting.pk)
    assert page.status_code == 200
    text = page.content.decode()
    assert f'value="{came.pk}"' in text and f'value="{absent.pk}"' in text
    assert f'value="{tenant_a.registration.pk}"' not in text  # the future meeting's
    assert any("has not taken place" in m for m in messages_of(page))

    response = act(
        staff_client, "record_attendance_bulk", past.pk, apply="1", attended=[str(came.pk)]
    )
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        came.refresh_from_db()
        absent.refresh_from_db()
    assert (came.attended, absent.attended) == (True, False)
    assert log_messages(past) == ["Attendance recorded: 1 of 2 registrant(s) attended."]


# Another alliance's ids change nothing
# ------------------------------------------------------------------------------


def test_b_ids_in_an_attendance_post_are_ignored(staff_client, tenant_a, tenant_b):
    past = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        starts_at=timezone.now() - datetime.timedelta(days=3),
    )
    mine = RegistrationFactory(alliance=tenant_a.alliance, meeting=past)
    before = tenant_rows(tenant_b.alliance)
    act(
        staff_client,
        "record_attendance_bulk",
        past.pk,
        apply="1",
        attended=[str(tenant_b.registration.pk), str(mine.pk)],
    )
    assert tenant_rows(tenant_b.alliance) == before
    with scope(alliance=tenant_a.alliance):
        mine.refresh_from_db()
    assert mine.attended is True


@pytest.mark.parametrize("action", ["export_registrations", "send_reminders_now", "duplicate"])
def test_b_meetings_are_not_selected(staff_client, tenant_b, action):
    before = tenant_rows(tenant_b.alliance)
    response = act(
        staff_client, action, tenant_b.meeting.pk, apply="1", day="2031-01-01", start="10:00"
    )
    if response.streaming:
        assert csv_rows(response)[1:] == []
    assert tenant_rows(tenant_b.alliance) == before
    assert outbox(kind="meeting_reminder") == []


# Roundtables: exports, bulk delete, the standalone admins
# ------------------------------------------------------------------------------


def test_export_roundtable_registrations_with_waitlist_places(staff_client, tenant_a, tenant_b):
    roundtable = tenant_a.roundtable
    first, second = (
        MembershipFactory(alliance=tenant_a.alliance, organization=tenant_a.organization)
        for _ in range(2)
    )
    now = timezone.now()
    for minutes, membership in ((5, first), (9, second)):
        RoundtableRegistrationFactory(
            alliance=tenant_a.alliance,
            roundtable=roundtable,
            membership=membership,
            status=RoundtableRegistration.Status.WAITLISTED,
            requested_at=now + datetime.timedelta(minutes=minutes),
        )
    response = act(
        staff_client,
        "export_registrations",
        roundtable.pk,
        tenant_b.roundtable.pk,
        changelist=ROUNDTABLES,
    )
    header, *rows = csv_rows(response)
    assert header[5:] == ["status", "place on waitlist", "attended"]
    assert [(r[2], r[5], r[6]) for r in rows] == [
        (tenant_a.member.full_name, "Registered", ""),
        (first.user.full_name, "On the waitlist", "1"),
        (second.user.full_name, "On the waitlist", "2"),
    ]
    assert {r[0] for r in rows} == {roundtable.title}


def test_export_roundtable_questions_by_votes(staff_client, tenant_a, tenant_b):
    popular = QuestionFactory(
        alliance=tenant_a.alliance,
        roundtable=tenant_a.roundtable,
        asked_by=tenant_a.membership,
        text="@risk: what now?",
    )
    for _ in range(2):
        QuestionVoteFactory(alliance=tenant_a.alliance, question=popular)
    response = act(
        staff_client,
        "export_questions",
        tenant_a.roundtable.pk,
        tenant_b.roundtable.pk,
        changelist=ROUNDTABLES,
    )
    header, *rows = csv_rows(response)
    assert header == [
        "roundtable",
        "date",
        "question",
        "asked by",
        "organization",
        "votes",
        "hidden",
    ]
    assert [(r[2], r[5]) for r in rows] == [
        ("'@risk: what now?", "2"),
        (tenant_a.question.text, "1"),
    ]


def test_roundtable_bulk_delete_refuses_per_row(staff_client, tenant_a):
    empty = RoundtableFactory(alliance=tenant_a.alliance, program_year=tenant_a.program_year)
    response = act(
        staff_client, "delete_selected", tenant_a.roundtable.pk, empty.pk, changelist=ROUNDTABLES
    )
    assert response.status_code == 200  # the confirmation page, for the deletable one only
    assert list(response.context["queryset"]) == [empty]
    assert any("has registrations" in m for m in messages_of(response))
    response = act(
        staff_client,
        "delete_selected",
        tenant_a.roundtable.pk,
        empty.pk,
        changelist=ROUNDTABLES,
        post="yes",
    )
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert list(Roundtable.objects.values_list("pk", flat=True)) == [tenant_a.roundtable.pk]


def test_roundtable_registration_admin_edits_attendance_only(staff_client, tenant_a):
    registration = tenant_a.roundtable_registration
    url = reverse("admin:roundtables_roundtableregistration_change", args=[registration.pk])
    form = staff_client.get(url).context["adminform"].form
    assert list(form.fields) == ["attended"]
    response = staff_client.post(url, {"attended": "true", "status": "cancelled"})
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        registration.refresh_from_db()
    assert (registration.attended, registration.status) == (True, "registered")
    add = reverse("admin:roundtables_roundtableregistration_add")
    assert staff_client.get(add).status_code == 403


def test_question_admin_hides_only(staff_client, tenant_a):
    question = tenant_a.question
    url = reverse("admin:roundtables_question_change", args=[question.pk])
    assert list(staff_client.get(url).context["adminform"].form.fields) == ["is_hidden"]
    staff_client.post(url, {"is_hidden": "on", "text": "rewritten"})
    with scope(alliance=tenant_a.alliance):
        question = Question.objects.get(pk=question.pk)
    assert question.is_hidden and question.text == tenant_a.question.text


@pytest.mark.parametrize(
    ("name", "row"),
    [("roundtables_questionvote", "question_vote"), ("meetings_meetingchange", None)],
)
def test_view_only_admins(staff_client, tenant_a, name, row):
    if row is None:
        with scope(alliance=tenant_a.alliance):
            obj = MeetingChange.objects.create(
                alliance=tenant_a.alliance,
                meeting=tenant_a.meeting,
                kind=MeetingChange.Kind.CANCELLED,
                changed_by=tenant_a.staff,
            )
    else:
        obj = getattr(tenant_a, row)
    assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    url = reverse(f"admin:{name}_change", args=[obj.pk])
    page = staff_client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert staff_client.get(reverse(f"admin:{name}_add")).status_code == 403
    delete = reverse(f"admin:{name}_delete", args=[obj.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    model = {"roundtables_questionvote": QuestionVote, "meetings_meetingchange": MeetingChange}
    with scope(alliance=tenant_a.alliance):
        assert model[name].objects.filter(pk=obj.pk).exists()


def test_agenda_item_admin_keeps_presenters_to_the_meetings_alliance(
    staff_client, superuser_client, tenant_a, tenant_b
):
    url = reverse("admin:meetings_agendaitem_add")
    data = {
        "meeting": tenant_a.meeting.pk,
        "order": "2",
        "title": "Guest talk",
        "kind": "guest_presentation",
        "presenter_speaker": tenant_b.speaker.pk,
    }
    response = superuser_client.post(url, data)
    assert response.status_code == 200
    assert "Choose one of this meeting" in response.content.decode()
    response = superuser_client.post(url, {**data, "presenter_speaker": tenant_a.speaker.pk})
    assert response.status_code == 302
    with scope(alliance=tenant_a.alliance):
        assert tenant_a.meeting.agenda.filter(title="Guest talk").exists()


@pytest.fixture
def superuser_client(client, totp_for):
    from django.test import Client

    from tests.factories import UserFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    totp_for(superuser)
    other = Client()
    other.force_login(superuser)
    return other


def test_agenda_changelist_lists_by_meeting(staff_client, tenant_a, tenant_b):
    host = OrganizationFactory(alliance=tenant_a.alliance)
    meeting = MeetingFactory(
        alliance=tenant_a.alliance, program_year=tenant_a.program_year, host_organization=host
    )
    AgendaItemFactory(meeting=meeting, title="Opening")
    response = staff_client.get(
        reverse("admin:meetings_agendaitem_changelist"), {"meeting__id__exact": meeting.pk}
    )
    assert [item.title for item in response.context["cl"].result_list] == ["Opening"]
    page = staff_client.get(reverse("admin:meetings_agendaitem_changelist")).content.decode()
    assert tenant_b.agenda_item.title not in page


HOSTILE = ["\x00", "9" * 60, "-1", "2031-13-45", "x" * 5000, "=cmd|' /C calc'!A0", "é\u202e"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_never_break_the_forms(staff_client, tenant_a, value):
    """A clear form error, or (for free text such as the topic or a note) accepted."""
    fields = ["program_year", "host", "day", "start", "time_zone", "topic", "guest", "dinner"]
    for field in fields:
        response = staff_client.post(COP, cop_data(tenant_a, **{field: value}))
        assert response.status_code in (200, 302), field
    for action in ("postpone_to", "move_virtual", "cancel", "duplicate"):
        for field in ("day", "start", "end", "note", "join_url"):
            response = act(staff_client, action, tenant_a.meeting.pk, apply="1", **{field: value})
            assert response.status_code in (200, 302), (action, field)
