"""Change notices: postponed, rescheduled, moved to virtual or cancelled → one notice
per attending registrant and change, with the updated calendar entry."""

import datetime
import zoneinfo
from email import message_from_bytes

import icalendar
import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance.models import OutgoingEmail
from alliance.notifications import notices
from members.models import Membership, Role
from roundtables import services as roundtable_services
from roundtables.models import RoundtableRegistration
from sessions import services
from sessions.models import Meeting, MeetingChange
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    RegistrationFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
)

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
XSS = '<script>alert("x")</script>'


def rows(**filters) -> list[OutgoingEmail]:
    with scopes_disabled():
        return list(OutgoingEmail.objects.filter(**filters).order_by("pk"))


def member(tenant, **fields):
    return MembershipFactory(
        alliance=tenant.alliance, organization=tenant.organization, role=Role.CEO, **fields
    )


def calendar_event(message) -> icalendar.Event:
    (attachment,) = message.attachments
    assert attachment[2].startswith("text/calendar")
    (event,) = icalendar.Calendar.from_ical(attachment[1]).walk("VEVENT")
    return event


def parts(message) -> tuple[str, str]:
    return message.body, message.alternatives[0][0]


@pytest.fixture
def meeting(tenant_a):
    """Next week in New York: an attending CEO (in Los Angeles), a decliner, one who
    turned reminders off, and one who left the alliance."""
    starts_at = timezone.now().replace(second=0, microsecond=0) + 7 * DAY
    meeting = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        title="Spring alliance meeting",
        starts_at=starts_at,
        ends_at=starts_at + 3 * HOUR,
        time_zone="America/New_York",
        format=Meeting.Format.IN_PERSON,
        sequence=2,
    )
    ceo = tenant_a.membership
    ceo.user.time_zone = "America/Los_Angeles"
    ceo.user.save()
    meeting.people = {
        "ceo": ceo,
        "declined": member(tenant_a),
        "quiet": member(tenant_a, reminders=False),
        "left": member(tenant_a, is_active=False),
    }
    for name, membership in meeting.people.items():
        response = "not_attending" if name == "declined" else "in_person"
        RegistrationFactory(
            alliance=tenant_a.alliance, meeting=meeting, membership=membership, response=response
        )
    return meeting


def change(tenant, service, meeting, django_capture_on_commit_callbacks, **arguments):
    with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant.alliance):
        return service(meeting=meeting, by=tenant.staff, **arguments)


def by_recipient():
    return {message.to[0]: message for message in mail.outbox}


class TestMeetingNotices:
    def test_postponed_until_further_notice(
        self, tenant_a, meeting, django_capture_on_commit_callbacks
    ):
        old = meeting.starts_at
        change(
            tenant_a,
            services.meeting_postpone,
            meeting,
            django_capture_on_commit_callbacks,
            note="Snowstorm",
        )
        people = meeting.people
        received = by_recipient()
        # Attending registrants only; reminders=False does not stop a change notice.
        assert set(received) == {people["ceo"].user.email, people["quiet"].user.email}
        message = received[people["ceo"].user.email]
        pacific = old.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
        assert message.subject == "Postponed: Spring alliance meeting"
        for part in parts(message):
            assert "postponed until further notice" in part.lower()
            assert f"{pacific:%A %-d %B %Y, %-I:%M %p %Z}" in part  # their zone
            assert "Snowstorm" in part
            assert meeting.join_url not in part
        event = calendar_event(message)
        assert str(event["UID"]) == f"{meeting.uid}@alliance-portal"
        assert int(event["SEQUENCE"]) == 3
        assert str(event["STATUS"]) == "CANCELLED"
        assert meeting.join_url not in str(event["DESCRIPTION"])
        # Transactional: no List-Unsubscribe, but the alliance as Reply-To.
        parsed = message_from_bytes(message.message().as_bytes())
        assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None
        assert message.reply_to == [tenant_a.alliance.contact_email]
        assert [p.get_content_type() for p in parsed.walk()][1:4] == [
            "multipart/alternative",
            "text/plain",
            "text/html",
        ]
        (row,) = rows(kind="meeting_change", recipient=people["ceo"].user.email)
        with scope(alliance=tenant_a.alliance):
            recorded = MeetingChange.objects.get(meeting=meeting)
        assert row.object_ref == f"meetings.meetingchange:{recorded.pk}"

    def test_rescheduled_to_a_new_date(self, tenant_a, meeting, django_capture_on_commit_callbacks):
        old = meeting.starts_at
        new = old + 14 * DAY
        change(
            tenant_a,
            services.meeting_postpone,
            meeting,
            django_capture_on_commit_callbacks,
            starts_at=new,
            ends_at=new + 2 * HOUR,
        )
        message = by_recipient()[tenant_a.member.email]
        zone = zoneinfo.ZoneInfo("America/Los_Angeles")
        assert (
            message.subject
            == f"New date: Spring alliance meeting, {new.astimezone(zone):%A %-d %B}"
        )
        for part in parts(message):
            assert f"{old.astimezone(zone):%A %-d %B %Y, %-I:%M %p %Z}" in part
            assert f"{new.astimezone(zone):%A %-d %B %Y, %-I:%M %p}" in part
            assert meeting.join_url in part  # still happening: registrants keep the link
        event = calendar_event(message)
        assert int(event["SEQUENCE"]) == 3 and str(event["STATUS"]) == "CONFIRMED"
        assert event.decoded("DTSTART") == new

    def test_moved_to_virtual(self, tenant_a, meeting, django_capture_on_commit_callbacks):
        change(
            tenant_a,
            services.meeting_move_virtual,
            meeting,
            django_capture_on_commit_callbacks,
            join_url="https://meet.example.org/moved-online",
        )
        message = by_recipient()[tenant_a.member.email]
        assert message.subject.startswith("Now online: Spring alliance meeting, ")
        for part in parts(message):
            assert "online only" in part
            assert "https://meet.example.org/moved-online" in part
            assert "attending virtually" in part
        event = calendar_event(message)
        assert str(event["LOCATION"]) == "Online" and int(event["SEQUENCE"]) == 3
        assert "https://meet.example.org/moved-online" in str(event["DESCRIPTION"])

    def test_cancelled_without_the_join_link(
        self, tenant_a, meeting, django_capture_on_commit_callbacks
    ):
        change(tenant_a, services.meeting_cancel, meeting, django_capture_on_commit_callbacks)
        message = by_recipient()[tenant_a.member.email]
        assert message.subject.startswith("Cancelled: Spring alliance meeting, ")
        for part in parts(message):
            assert "cancelled" in part.lower()
            assert meeting.join_url not in part
        event = calendar_event(message)
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 3
        assert meeting.join_url not in event.to_ical().decode()

    def test_each_change_is_told_once(self, tenant_a, meeting, django_capture_on_commit_callbacks):
        change(tenant_a, services.meeting_move_virtual, meeting, django_capture_on_commit_callbacks)
        change(tenant_a, services.meeting_cancel, meeting, django_capture_on_commit_callbacks)
        ceo = tenant_a.member.email
        assert len(rows(kind="meeting_change", recipient=ceo)) == 2
        with scope(alliance=tenant_a.alliance):
            for recorded in MeetingChange.objects.filter(meeting=meeting):
                # The same change again (a retried task, a double call): nothing new.
                assert notices.meeting_change_notify(change=recorded) == 0
        assert len(rows(kind="meeting_change", recipient=ceo)) == 2
        assert [m.to[0] for m in mail.outbox].count(ceo) == 2

    def test_a_rolled_back_change_sends_nothing(self, tenant_a, meeting):
        class Abort(Exception):
            pass

        with pytest.raises(Abort), scope(alliance=tenant_a.alliance), transaction.atomic():
            services.meeting_cancel(meeting=meeting, by=tenant_a.staff)
            assert rows(kind="meeting_change")
            raise Abort
        assert rows(kind="meeting_change") == []

    def test_tidying_up_a_past_meeting_tells_no_one(self, tenant_a, meeting):
        with scope(alliance=tenant_a.alliance):
            Meeting.objects.filter(pk=meeting.pk).update(
                starts_at=timezone.now() - 30 * DAY, ends_at=timezone.now() - 30 * DAY + HOUR
            )
            services.meeting_cancel(meeting=meeting, by=tenant_a.staff)
        assert rows(kind="meeting_change") == []

    def test_staff_postponing_in_the_admin_queues_the_notice(
        self, client, tenant_a, meeting, totp_for, django_capture_on_commit_callbacks
    ):
        totp_for(tenant_a.staff)
        client.force_login(tenant_a.staff)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:meetings_meeting_changelist"),
                {"action": "postpone", "_selected_action": [meeting.pk]},
            )
        assert response.status_code == 302
        assert "Postponed: Spring alliance meeting" in {m.subject for m in mail.outbox}

    def test_names_and_notes_are_escaped(
        self, tenant_a, meeting, django_capture_on_commit_callbacks
    ):
        with scope(alliance=tenant_a.alliance):
            Meeting.objects.filter(pk=meeting.pk).update(title=f"Meeting {XSS}")
            meeting.refresh_from_db()
        tenant_a.member.full_name = f"Pat {XSS}"
        tenant_a.member.save()
        change(
            tenant_a,
            services.meeting_cancel,
            meeting,
            django_capture_on_commit_callbacks,
            note=f"Because {XSS}",
        )
        text, html = parts(by_recipient()[tenant_a.member.email])
        assert "<script>" not in html
        assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 3
        assert text.count(XSS) >= 3


@pytest.fixture
def roundtable(tenant_a):
    starts_at = timezone.now().replace(second=0, microsecond=0) + 10 * HOUR
    roundtable = RoundtableFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        title="Leadership Virtual Roundtable, quarter 2",
        starts_at=starts_at,
        ends_at=starts_at + 90 * datetime.timedelta(minutes=1),
    )
    Status = RoundtableRegistration.Status
    roundtable.people = {
        "seated": tenant_a.membership,
        "waiting": member(tenant_a),
        "gone": member(tenant_a),
    }
    for name, status in (
        ("seated", Status.REGISTERED),
        ("waiting", Status.WAITLISTED),
        ("gone", Status.CANCELLED),
    ):
        RoundtableRegistrationFactory(
            alliance=tenant_a.alliance,
            roundtable=roundtable,
            membership=roundtable.people[name],
            status=status,
        )
    return roundtable


class TestRoundtableNotices:
    def test_rescheduled_tells_seated_and_waiting_members_once(
        self, tenant_a, roundtable, django_capture_on_commit_callbacks
    ):
        new = roundtable.starts_at + 7 * DAY
        with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant_a.alliance):
            roundtable_services.roundtable_postpone(
                roundtable=roundtable, starts_at=new, ends_at=new + HOUR
            )
        people = roundtable.people
        received = by_recipient()
        assert set(received) == {people["seated"].user.email, people["waiting"].user.email}
        assert {r.key for r in rows(kind="roundtable_change")} == {"seq1"}
        seated = received[people["seated"].user.email]
        assert seated.subject.startswith("New date: Leadership Virtual Roundtable, quarter 2, ")
        # A week away now: the link is not shown yet, the notice says from when.
        for part in parts(seated):
            assert roundtable.join_url not in part
            assert "appear on the roundtable page from" in part
        waiting = received[people["waiting"].user.email]
        assert "waitlist" in waiting.body
        event = calendar_event(seated)
        assert str(event["UID"]) == f"{roundtable.uid}@alliance-portal"
        assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CONFIRMED"
        with scope(alliance=tenant_a.alliance):
            roundtable.refresh_from_db()
            assert notices.roundtable_change_notify(roundtable=roundtable, old_starts_at=None) == 0

    def test_postponed_then_cancelled_without_the_join_link(
        self, tenant_a, roundtable, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant_a.alliance):
            roundtable_services.roundtable_postpone(roundtable=roundtable)
            roundtable_services.roundtable_cancel(roundtable=roundtable)
        seated = [m for m in mail.outbox if m.to == [tenant_a.member.email]]
        assert [m.subject.split(":")[0] for m in seated] == ["Postponed", "Cancelled"]
        assert {r.key for r in rows(kind="roundtable_change")} == {"seq1", "seq2"}
        for message in seated:
            for part in parts(message):
                assert roundtable.join_url not in part and roundtable.passcode not in part
            event = calendar_event(message)
            assert str(event["STATUS"]) == "CANCELLED"
            assert roundtable.join_url not in event.to_ical().decode()
        assert [int(calendar_event(m)["SEQUENCE"]) for m in seated] == [1, 2]

    def test_a_seated_member_inside_the_lead_time_gets_the_link(
        self, tenant_a, roundtable, django_capture_on_commit_callbacks
    ):
        new = roundtable.starts_at + 2 * HOUR
        with django_capture_on_commit_callbacks(execute=True), scope(alliance=tenant_a.alliance):
            roundtable_services.roundtable_postpone(
                roundtable=roundtable, starts_at=new, ends_at=new + HOUR
            )
        received = by_recipient()
        seated = received[tenant_a.member.email]
        assert roundtable.join_url in seated.body and roundtable.passcode in seated.body
        assert roundtable.join_url in str(calendar_event(seated)["DESCRIPTION"])
        waiting = received[roundtable.people["waiting"].user.email]
        assert roundtable.join_url not in waiting.body + waiting.alternatives[0][0]


def test_members_who_left_hear_nothing(tenant_a, django_capture_on_commit_callbacks):
    with scope(alliance=tenant_a.alliance):
        Membership.objects.filter(pk=tenant_a.membership.pk).update(is_active=False)
    change(tenant_a, services.meeting_cancel, tenant_a.meeting, django_capture_on_commit_callbacks)
    assert rows(kind="meeting_change") == []
    assert mail.outbox == []
