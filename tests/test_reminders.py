"""Reminders and RSVP nudges: computed from rows, at the alliance's offsets, exactly once.

Every dispatch here passes `now` explicitly: events start at fixed distances
from it, so the offsets that have passed are known.
"""

import datetime
import logging
import math
import re
import threading
import zoneinfo
from email import message_from_bytes

import icalendar
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError

from alliance.models import OutgoingEmail, SharedEmailBody
from alliance.notifications import outbox, reminders
from alliance.notifications.content import content_of
from alliance.notifications.reminders import reminders_dispatch
from alliance.notifications.unsubscribe import bulk_header_problems
from members.models import Membership, Role
from roundtables.models import Roundtable, RoundtableRegistration
from sessions.models import Audience, Guest, Meeting, Registration
from tests.factories import (
    AgendaItemFactory,
    MeetingFactory,
    MembershipFactory,
    RegistrationFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
    SpeakerFactory,
)
from tests.guardrails.canaries import leaks, plant_canaries
from tests.needs import needs_postgresql

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(second=0, microsecond=0)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# Helpers
# ------------------------------------------------------------------------------


def meeting_at(tenant, starts_at, **fields):
    return MeetingFactory(
        alliance=tenant.alliance,
        program_year=tenant.program_year,
        starts_at=starts_at,
        ends_at=starts_at + 3 * HOUR,
        **fields,
    )


def roundtable_at(tenant, starts_at, **fields):
    return RoundtableFactory(
        alliance=tenant.alliance,
        program_year=tenant.program_year,
        starts_at=starts_at,
        ends_at=starts_at + 90 * datetime.timedelta(minutes=1),
        **fields,
    )


def member(tenant, role=Role.CEO, **fields):
    return MembershipFactory(
        alliance=tenant.alliance, organization=tenant.organization, role=role, **fields
    )


def register(tenant, meeting, membership, response=Registration.Response.IN_PERSON):
    return RegistrationFactory(
        alliance=tenant.alliance, meeting=meeting, membership=membership, response=response
    )


def seat(tenant, roundtable, membership, status=RoundtableRegistration.Status.REGISTERED):
    return RoundtableRegistrationFactory(
        alliance=tenant.alliance, roundtable=roundtable, membership=membership, status=status
    )


def dispatch(tenant, now):
    with scope(alliance=tenant.alliance):
        return reminders_dispatch(alliance=tenant.alliance, now=now)


def rows(**filters) -> list[OutgoingEmail]:
    with scopes_disabled():
        return list(OutgoingEmail.objects.filter(**filters).order_by("pk"))


def about(event) -> str:
    return f"{event._meta.label_lower}:{event.pk}"


def sent_to(kind, event) -> list[tuple[str, str]]:
    """(recipient, key) of every row of this kind about this event."""
    return sorted((r.recipient, r.key) for r in rows(kind=kind, object_ref=about(event)))


def key(hours, event) -> str:
    return f"{hours}h@{event.starts_at.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def ics_of(row_or_message) -> icalendar.Event:
    if isinstance(row_or_message, OutgoingEmail):
        (attachment,) = content_of(row_or_message).attachments
        assert attachment["mimetype"] == "text/calendar"
        content = attachment["content"]
    else:
        (attachment,) = row_or_message.attachments
        content = attachment[1]
    (event,) = icalendar.Calendar.from_ical(content).walk("VEVENT")
    return event


# Offsets and catch-up
# ------------------------------------------------------------------------------


class TestOffsets:
    def test_a_week_then_a_day_before_a_meeting(self, tenant_a):
        meeting = meeting_at(tenant_a, NOW + 10 * DAY)
        ceo = tenant_a.membership
        register(tenant_a, meeting, ceo)
        start = meeting.starts_at

        assert dispatch(tenant_a, start - 8 * DAY) == 0
        assert sent_to("meeting_reminder", meeting) == []
        dispatch(tenant_a, start - 7 * DAY + 5 * datetime.timedelta(minutes=1))
        assert sent_to("meeting_reminder", meeting) == [(ceo.user.email, key(168, meeting))]
        # Every run in between finds the week's reminder queued already.
        dispatch(tenant_a, start - 3 * DAY)
        assert len(sent_to("meeting_reminder", meeting)) == 1
        dispatch(tenant_a, start - 23 * HOUR)
        assert sent_to("meeting_reminder", meeting) == sorted(
            [(ceo.user.email, key(168, meeting)), (ceo.user.email, key(24, meeting))]
        )

    def test_after_downtime_only_the_nearest_offset_goes_out(self, tenant_a):
        meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
        register(tenant_a, meeting, tenant_a.membership)
        dispatch(tenant_a, NOW)
        assert sent_to("meeting_reminder", meeting) == [(tenant_a.member.email, key(24, meeting))]

    def test_roundtables_a_day_and_an_hour_before(self, tenant_a):
        roundtable = roundtable_at(tenant_a, NOW + 50 * datetime.timedelta(minutes=1))
        seat(tenant_a, roundtable, tenant_a.membership)
        dispatch(tenant_a, NOW)
        assert sent_to("roundtable_reminder", roundtable) == [
            (tenant_a.member.email, key(1, roundtable))
        ]

    def test_the_alliances_own_offsets(self, tenant_a):
        tenant_a.alliance.meeting_reminder_hours = [72]
        tenant_a.alliance.roundtable_reminder_hours = []
        tenant_a.alliance.save()
        meeting = meeting_at(tenant_a, NOW + 60 * HOUR)
        register(tenant_a, meeting, tenant_a.membership)
        roundtable = roundtable_at(tenant_a, NOW + 2 * HOUR)
        seat(tenant_a, roundtable, tenant_a.membership)
        dispatch(tenant_a, NOW)
        assert sent_to("meeting_reminder", meeting) == [(tenant_a.member.email, key(72, meeting))]
        assert sent_to("roundtable_reminder", roundtable) == []

    def test_a_rescheduled_meeting_gets_reminders_for_its_new_date(self, tenant_a):
        from sessions import services

        meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
        register(tenant_a, meeting, tenant_a.membership)
        dispatch(tenant_a, NOW)
        new_start = NOW + 22 * HOUR
        with scope(alliance=tenant_a.alliance):
            services.meeting_postpone(
                meeting=meeting, by=tenant_a.staff, starts_at=new_start, ends_at=new_start + HOUR
            )
            meeting.refresh_from_db()
        dispatch(tenant_a, NOW)
        keys = [k for _, k in sent_to("meeting_reminder", meeting)]
        assert sorted(keys) == sorted([key(24, meeting), f"24h@{NOW + 20 * HOUR:%Y%m%dT%H%MZ}"])


class TestNothingToSend:
    def test_cancelled_postponed_completed_and_past_events(self, tenant_a):
        start = NOW + 20 * HOUR
        cancelled = meeting_at(tenant_a, start, status=Meeting.Status.CANCELLED)
        postponed = meeting_at(tenant_a, start, status=Meeting.Status.POSTPONED)
        undated = meeting_at(tenant_a, start)
        with scope(alliance=tenant_a.alliance):
            Meeting.objects.filter(pk=undated.pk).update(
                starts_at=None, ends_at=None, status=Meeting.Status.POSTPONED
            )
        completed = meeting_at(tenant_a, start, status=Meeting.Status.COMPLETED)
        past = meeting_at(tenant_a, NOW - HOUR)
        gone = roundtable_at(tenant_a, NOW + HOUR, status=Roundtable.Status.CANCELLED)
        for meeting in (cancelled, postponed, undated, completed, past):
            register(tenant_a, meeting, tenant_a.membership)
        seat(tenant_a, gone, tenant_a.membership)

        assert dispatch(tenant_a, NOW) == 0
        assert rows(kind__in=["meeting_reminder", "roundtable_reminder", "rsvp_nudge"]) == []

    def test_declined_cancelled_waitlisted_opted_out_and_inactive_members(self, tenant_a):
        meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
        roundtable = roundtable_at(tenant_a, NOW + 20 * HOUR)
        attending, declined, opted_out, inactive, left = (member(tenant_a) for _ in range(5))
        with scope(alliance=tenant_a.alliance):
            Membership.objects.filter(pk=opted_out.pk).update(reminders=False)
            Membership.objects.filter(pk=inactive.pk).update(is_active=False)
        left.user.is_active = False
        left.user.save()
        for membership in (attending, opted_out, inactive, left):
            register(tenant_a, meeting, membership, Registration.Response.VIRTUAL)
            seat(tenant_a, roundtable, membership)
        register(tenant_a, meeting, declined, Registration.Response.NOT_ATTENDING)
        seat(tenant_a, roundtable, declined, RoundtableRegistration.Status.CANCELLED)
        waiting = member(tenant_a)
        seat(tenant_a, roundtable, waiting, RoundtableRegistration.Status.WAITLISTED)

        dispatch(tenant_a, NOW)

        assert [r for r, _ in sent_to("meeting_reminder", meeting)] == [attending.user.email]
        assert [r for r, _ in sent_to("roundtable_reminder", roundtable)] == [attending.user.email]


# Exactly once
# ------------------------------------------------------------------------------


def test_the_same_job_run_twice_queues_once(tenant_a, django_capture_on_commit_callbacks):
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    roundtable = roundtable_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)
    seat(tenant_a, roundtable, tenant_a.membership)
    with django_capture_on_commit_callbacks(execute=True):
        first = dispatch(tenant_a, NOW)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert dispatch(tenant_a, NOW) == 0
    assert callbacks == []
    assert first == len(rows(alliance=tenant_a.alliance, kind__contains="_")) - len(
        rows(alliance=tenant_a.alliance, kind="need_help")
    )
    assert len(sent_to("meeting_reminder", meeting)) == 1
    assert len(sent_to("roundtable_reminder", roundtable)) == 1
    assert bulk_header_problems(rows()) == []
    assert (
        sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Reminder"))
        == [tenant_a.member.email] * 2
    )


def test_the_command_queues_then_has_nothing_left(tenant_a, tenant_b, capsys):
    meeting = meeting_at(tenant_a, timezone.now() + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)
    call_command("dispatch_reminders", "--alliance", tenant_a.alliance.slug)
    out = capsys.readouterr().out
    assert f"{tenant_a.alliance.slug}: 1 meeting_reminder" in out
    assert tenant_b.alliance.slug not in out
    call_command("dispatch_reminders")
    out = capsys.readouterr().out
    assert f"{tenant_a.alliance.slug}: nothing due" in out
    assert f"{tenant_b.alliance.slug}: nothing due" in out
    assert "Queued 0 message(s)." in out
    assert len(sent_to("meeting_reminder", meeting)) == 1


def test_the_command_refuses_an_unknown_alliance(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No alliance"):
        call_command("dispatch_reminders", "--alliance", "nowhere")


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_queue_one_row_per_recipient_and_offset(tenant_a):
    """Several workers at once: SKIP LOCKED splits the events, the outbox's unique
    constraint settles any overlap. Needs row locks between real connections."""
    needs_postgresql("row locks between connections need it")
    people = [member(tenant_a) for _ in range(5)]
    events = []
    for hours in range(2, 2 + 3 * reminders.BATCH_SIZE // 2):  # more than one batch
        meeting = meeting_at(tenant_a, NOW + hours * HOUR)
        for membership in people:
            register(tenant_a, meeting, membership)
        events.append(meeting)
    workers = 4
    barrier = threading.Barrier(workers)
    errors, counts = [], []

    def run():
        try:
            with scope(alliance=tenant_a.alliance):
                barrier.wait()
                counts.append(reminders_dispatch(alliance=tenant_a.alliance, now=NOW))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    queued = rows(kind="meeting_reminder")
    identities = [(r.object_ref, r.recipient, r.key) for r in queued]
    assert len(identities) == len(set(identities)) == len(events) * len(people)
    assert sum(counts) >= len(queued)
    # The bodies a losing worker rendered are not left behind.
    with scope(alliance=tenant_a.alliance):
        bodies = set(SharedEmailBody.objects.values_list("pk", flat=True))
    assert bodies == {r.shared_body_id for r in rows(alliance=tenant_a.alliance)} - {None}


@pytest.mark.django_db(transaction=True)
def test_a_run_writes_its_rows_in_parts_on_a_second_connection(tenant_a, monkeypatch):
    """A worker's run (no caller's transaction): each part's rows are written
    by the writer thread, in a transaction of its own, while the next renders."""
    needs_postgresql("writes on a second connection need it")
    monkeypatch.setattr(reminders, "PART_ROWS", 2)
    people = [member(tenant_a) for _ in range(7)]
    meetings = [meeting_at(tenant_a, NOW + hours * HOUR) for hours in (20, 21)]
    for meeting in meetings:
        for membership in people:
            register(tenant_a, meeting, membership)
    writers, write = [], reminders._Part.write

    def noted(part, **options):
        writers.append((threading.current_thread().name, connection.in_atomic_block))
        return write(part, **options)

    monkeypatch.setattr(reminders._Part, "write", noted)
    sent_for_delivery = []
    monkeypatch.setattr(outbox, "send_for_delivery", sent_for_delivery.extend)
    queued_count = dispatch(tenant_a, NOW)
    assert len(writers) > 2  # in parts
    assert {name.split("_")[0] for name, _ in writers} == {"reminder-writes"}
    assert all(in_transaction for _, in_transaction in writers)
    queued = rows(kind="meeting_reminder")
    assert sorted(r.recipient for r in queued) == sorted(
        m.user.email for m in people for _ in meetings
    )
    assert queued_count == len(queued) + len(rows(kind="rsvp_nudge"))
    # Each part was sent for delivery once committed, by the run's thread.
    assert sorted(sent_for_delivery) == sorted(
        row.pk
        for row in rows(alliance=tenant_a.alliance, kind__in=["meeting_reminder", "rsvp_nudge"])
    )
    # Each part stored the bodies it was first to use; none is left unused.
    with scope(alliance=tenant_a.alliance):
        bodies = set(SharedEmailBody.objects.values_list("pk", flat=True))
    assert bodies == {r.shared_body_id for r in rows(alliance=tenant_a.alliance)} - {None}
    assert {r.shared_body_id for r in queued} != {None}
    assert dispatch(tenant_a, NOW) == 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_fails_the_run_and_the_next_run_queues_its_messages(tenant_a, monkeypatch):
    needs_postgresql("writes on a second connection need it")
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)

    def refused(*, alliance, rows, **options):
        raise RuntimeError("database refused the write")

    monkeypatch.setattr(reminders, "enqueue_many", refused)
    with pytest.raises(RuntimeError, match="refused the write"):
        dispatch(tenant_a, NOW)
    assert rows(kind="meeting_reminder") == []
    monkeypatch.undo()
    dispatch(tenant_a, NOW + datetime.timedelta(minutes=5))
    assert sent_to("meeting_reminder", meeting) == [
        (tenant_a.membership.user.email, key(24, meeting))
    ]


def test_a_run_inside_a_callers_transaction_writes_in_it(tenant_a, monkeypatch):
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)
    threads, write = [], reminders._Part.write

    def noted(part, **options):
        threads.append(threading.current_thread())
        return write(part, **options)

    monkeypatch.setattr(reminders._Part, "write", noted)
    with transaction.atomic():
        dispatch(tenant_a, NOW)
        # Written in this transaction: there before it commits.
        assert sent_to("meeting_reminder", meeting) == [
            (tenant_a.membership.user.email, key(24, meeting))
        ]
    assert threads and set(threads) == {threading.main_thread()}


def test_the_bodies_of_messages_a_racing_run_queued_first_are_deleted(tenant_a, monkeypatch):
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)
    enqueue_many = reminders.enqueue_many

    def another_run_first(*, alliance, rows, **options):
        # Between this run's check and its INSERT, another commits the same messages.
        theirs = [
            outbox.new_row(
                alliance=alliance,
                kind=row.kind,
                about=meeting,
                recipient=row.recipient,
                key=row.key,
                subject=row.subject,
                text_body="Theirs",
            )
            for row in rows
        ]
        enqueue_many(alliance=alliance, rows=theirs)
        return enqueue_many(alliance=alliance, rows=rows, **options)

    monkeypatch.setattr(reminders, "enqueue_many", another_run_first)
    assert dispatch(tenant_a, NOW) == 0
    (row,) = rows(kind="meeting_reminder")
    assert row.text_body == "Theirs" and row.shared_body_id is None
    with scope(alliance=tenant_a.alliance):
        assert not SharedEmailBody.objects.exists()


# Content
# ------------------------------------------------------------------------------


@pytest.fixture
def cop_session(tenant_a):
    """A hybrid session in New York tomorrow with a CEO-only agenda item, a host and a guest."""
    meeting = meeting_at(
        tenant_a,
        NOW + 20 * HOUR,
        title="Community of practice at Harbor",
        time_zone="America/New_York",
        audience=Audience.CEOS_AND_QUALITY,
        discussion_topic="Physician engagement",
        host_organization=tenant_a.organization,
        dinner_at=NOW + 28 * HOUR,
        dinner_place="The Harbor Room",
    )
    guest = SpeakerFactory(alliance=tenant_a.alliance, name="Dr Guest Speaker")
    with scope(alliance=tenant_a.alliance):
        Guest.objects.create(meeting=meeting, speaker=guest, joins_dinner=True)
    AgendaItemFactory(meeting=meeting, order=1, title="Host's improvement example")
    AgendaItemFactory(meeting=meeting, order=2, title="CEO game plan", audience=Audience.CEOS)
    return meeting


def delivered(tenant, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispatch(tenant, now)
    return {message.to[0]: message for message in mail.outbox}


class TestMeetingReminderContent:
    def test_facts_in_the_recipients_zone_and_the_events(
        self, tenant_a, cop_session, django_capture_on_commit_callbacks
    ):
        ceo = tenant_a.membership
        ceo.user.time_zone = "America/Los_Angeles"
        ceo.user.save()
        register(tenant_a, cop_session, ceo, Registration.Response.VIRTUAL)

        message = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)[ceo.user.email]

        html = message.alternatives[0][0]
        start = cop_session.starts_at
        pacific = start.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
        eastern = start.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        assert message.subject == (
            f"Reminder: Community of practice at Harbor, {pacific:%A %-d %B}"
        )
        for part in (message.body, html):
            assert f"{pacific:%-I:%M %p}" in part and f"{pacific:%Z}" in part
            assert f"{eastern:%-I:%M %p}" in part and f"{eastern:%Z}" in part
            assert tenant_a.organization.name in part  # the host
            assert "Dr Guest Speaker" in part
            assert "Physician engagement" in part
            assert "Host&#x27;s improvement example" in part or (
                "Host's improvement example" in part
            )
            assert "CEO game plan" in part  # a CEO sees the CEO-only item
            assert cop_session.join_url in part
            assert f"/{tenant_a.alliance.slug}/meetings/{cop_session.pk}/" in part
            assert "attending virtually" in part

    def test_a_head_of_quality_sees_only_their_agenda_items(
        self, tenant_a, cop_session, django_capture_on_commit_callbacks
    ):
        quality = member(tenant_a, role=Role.QUALITY_LEAD)
        register(tenant_a, cop_session, quality)
        message = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)[quality.user.email]
        for part in (message.body, message.alternatives[0][0]):
            assert "improvement example" in part
            assert "CEO game plan" not in part

    def test_multipart_headers_and_the_calendar_entry(
        self, tenant_a, cop_session, django_capture_on_commit_callbacks
    ):
        register(tenant_a, cop_session, tenant_a.membership)
        with scope(alliance=tenant_a.alliance):
            Meeting.objects.filter(pk=cop_session.pk).update(sequence=3)
        message = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)[
            tenant_a.member.email
        ]

        parsed = message_from_bytes(message.message().as_bytes())
        types = [part.get_content_type() for part in parsed.walk()]
        assert types[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
        assert "text/calendar" in types
        assert " ".join(parsed["List-Unsubscribe"].split()).startswith("<http")
        assert "mailto:" in parsed["List-Unsubscribe"]
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.reply_to == [tenant_a.alliance.contact_email]
        event = ics_of(message)
        assert str(event["UID"]) == f"{cop_session.uid}@alliance-portal"
        assert int(event["SEQUENCE"]) == 3
        assert str(event["STATUS"]) == "CONFIRMED"
        assert cop_session.join_url in str(event["DESCRIPTION"])
        assert "/unsubscribe/" in message.alternatives[0][0]

    def test_names_and_titles_are_escaped_in_html_and_plain_in_text(
        self, tenant_a, django_capture_on_commit_callbacks
    ):
        meeting = meeting_at(tenant_a, NOW + 20 * HOUR, title=f"Session {XSS}\r\nBcc: x@y.z")
        ceo = tenant_a.membership
        ceo.user.full_name = f"Pat {XSS}"
        ceo.user.save()
        register(tenant_a, meeting, ceo)
        message = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)[ceo.user.email]
        html = message.alternatives[0][0]
        assert "<script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
        assert XSS in message.body  # plain text: shown as typed, nothing interprets it
        assert "\n" not in message.subject and "\r" not in message.subject
        assert message.extra_headers.get("Bcc") is None and message.bcc == []


class TestNudges:
    def test_members_who_have_not_answered_get_one_nudge(
        self, tenant_a, django_capture_on_commit_callbacks
    ):
        meeting = meeting_at(tenant_a, NOW + 6 * DAY, audience=Audience.ALL_MEMBERS)
        silent, declined, opted_out = member(tenant_a), member(tenant_a), member(tenant_a)
        register(tenant_a, meeting, declined, Registration.Response.NOT_ATTENDING)
        with scope(alliance=tenant_a.alliance):
            Membership.objects.filter(pk=opted_out.pk).update(reminders=False)

        messages = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)
        dispatch(tenant_a, NOW + DAY)

        nudged = {r for r, _ in sent_to("rsvp_nudge", meeting)}
        # The CEO registered for the tenant's own meeting, not this one: nudged too.
        assert silent.user.email in nudged and tenant_a.member.email in nudged
        assert declined.user.email not in nudged and opted_out.user.email not in nudged
        assert len(rows(kind="rsvp_nudge", recipient=silent.user.email)) == 1
        nudge = messages[silent.user.email]
        assert nudge.subject.startswith("Will you attend? ")
        assert meeting.join_url not in nudge.body + nudge.alternatives[0][0]
        assert nudge.attachments == []
        assert nudge.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert bulk_header_problems(rows(kind="rsvp_nudge")) == []

    def test_only_invited_members_are_nudged_and_not_before_the_first_offset(self, tenant_a):
        meeting = meeting_at(
            tenant_a, NOW + 8 * DAY, audience=Audience.CEOS, substitutes_allowed=False
        )
        quality = member(tenant_a, role=Role.QUALITY_LEAD)
        dispatch(tenant_a, NOW)
        assert sent_to("rsvp_nudge", meeting) == []
        dispatch(tenant_a, NOW + 2 * DAY)
        nudged = {r for r, _ in sent_to("rsvp_nudge", meeting)}
        assert tenant_a.member.email in nudged
        assert quality.user.email not in nudged


class TestRoundtableReminderContent:
    def test_facilitators_and_the_join_link_once_it_shows(
        self, tenant_a, django_capture_on_commit_callbacks
    ):
        roundtable = roundtable_at(tenant_a, NOW + 50 * datetime.timedelta(minutes=1))
        with scope(alliance=tenant_a.alliance):
            roundtable.facilitators.set([tenant_a.speaker])
        seat(tenant_a, roundtable, tenant_a.membership)
        message = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)[
            tenant_a.member.email
        ]
        for part in (message.body, message.alternatives[0][0]):
            assert tenant_a.speaker.name in part
            assert roundtable.join_url in part and roundtable.passcode in part
        event = ics_of(message)
        assert str(event["UID"]) == f"{roundtable.uid}@alliance-portal"
        assert roundtable.join_url in str(event["DESCRIPTION"])

    def test_before_the_lead_time_it_says_when_the_link_appears(
        self, tenant_a, django_capture_on_commit_callbacks
    ):
        tenant_a.alliance.join_link_lead_hours = 2
        tenant_a.alliance.save()
        roundtable = roundtable_at(tenant_a, NOW + 20 * HOUR)
        seat(tenant_a, roundtable, tenant_a.membership)
        message = delivered(tenant_a, NOW, django_capture_on_commit_callbacks)[
            tenant_a.member.email
        ]
        for part in (message.body, message.alternatives[0][0]):
            assert roundtable.join_url not in part and roundtable.passcode not in part
            assert "appear on the roundtable page from" in part
        assert roundtable.join_url not in ics_of(message).to_ical().decode()


# Scale
# ------------------------------------------------------------------------------


def _outbox_insert(sql: str) -> bool:
    # INSERT … ON CONFLICT DO NOTHING (PostgreSQL) or INSERT OR IGNORE (SQLite).
    return re.match(r'\s*INSERT (OR IGNORE )?INTO "alliance_outgoingemail"', sql) is not None


def test_queries_per_dispatch_do_not_grow_with_registrations(tenant_a):
    """10 and 100 registrants: the same reads, and rows written in bulk statements."""
    measured = {}
    for size, days in ((10, 20), (100, 40)):
        starts_at = NOW + days * DAY
        meeting = meeting_at(tenant_a, starts_at)
        AgendaItemFactory(meeting=meeting, title="Welcome")
        with scope(alliance=tenant_a.alliance):
            Guest.objects.create(meeting=meeting, speaker=tenant_a.speaker)
        for _ in range(size):
            register(tenant_a, meeting, member(tenant_a))
        roundtable = roundtable_at(tenant_a, starts_at - HOUR)
        for _ in range(size):
            seat(tenant_a, roundtable, member(tenant_a))
        before = len(rows())
        with CaptureQueriesContext(connection) as queries:
            dispatch(tenant_a, starts_at - 20 * HOUR)
        written = len(rows()) - before
        assert len(sent_to("meeting_reminder", meeting)) == size
        assert len(sent_to("roundtable_reminder", roundtable)) == size
        statements = [q["sql"] for q in queries.captured_queries]
        inserts = [sql for sql in statements if _outbox_insert(sql)]
        measured[size] = {"reads": len(statements) - len(inserts), "inserts": len(inserts)}
        # One bulk insert per batch of events (meetings, roundtables), split only
        # where the database limits the parameters of one statement.
        per_statement = connection.ops.bulk_batch_size(
            [f for f in OutgoingEmail._meta.concrete_fields if not f.primary_key], [None] * written
        )
        assert len(inserts) <= math.ceil(written / per_statement) + 1, measured
    assert measured[10]["reads"] == measured[100]["reads"], measured
    assert bulk_header_problems(rows()) == []


# Tenancy and Celery
# ------------------------------------------------------------------------------


def test_dispatching_for_a_never_touches_bs_events(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    mine = meeting_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, mine, tenant_a.membership)
    theirs = meeting_at(tenant_b, NOW + 20 * HOUR)
    register(tenant_b, theirs, tenant_b.membership)
    their_roundtable = roundtable_at(tenant_b, NOW + HOUR / 2)
    seat(tenant_b, their_roundtable, tenant_b.membership)
    canaries = plant_canaries(tenant_b)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch(tenant_a, NOW)

    assert rows(alliance=tenant_b.alliance, kind__endswith="reminder") == []
    assert rows(object_ref=about(theirs)) == rows(object_ref=about(their_roundtable)) == []
    assert mail.outbox, "A's reminders were sent"
    for message in mail.outbox:
        text = "\n".join([message.subject, message.body, message.alternatives[0][0]])
        text += "".join(str(a[1]) for a in message.attachments)
        assert leaks(text, canaries) == []


def test_the_tenant_task_given_an_unknown_alliance_sends_nothing(tenant_a, caplog):
    from alliance.notifications.tasks import dispatch_alliance_reminders

    meeting = meeting_at(tenant_a, timezone.now() + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)
    with caplog.at_level(logging.ERROR):
        assert dispatch_alliance_reminders.delay(987654).get() is None
    assert "does not exist; nothing done" in caplog.text
    assert rows(kind="meeting_reminder") == []


def test_the_beat_fan_out_runs_each_alliance_in_its_own_scope(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    from alliance.celery_app import app
    from alliance.notifications.tasks import dispatch_reminders

    app.loader.import_default_modules()
    assert {
        "notifications.dispatch_reminders",
        "notifications.dispatch_alliance_reminders",
    } <= set(app.tasks)
    entry = app.conf.beat_schedule["notifications.dispatch_reminders"]
    assert entry["task"] == "notifications.dispatch_reminders" and entry["schedule"] <= 300

    ours = meeting_at(tenant_a, timezone.now() + 20 * HOUR)
    register(tenant_a, ours, tenant_a.membership)
    theirs = meeting_at(tenant_b, timezone.now() + 20 * HOUR)
    register(tenant_b, theirs, tenant_b.membership)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_reminders.delay().get() >= 2
    assert [r.recipient for r in rows(kind="meeting_reminder", object_ref=about(ours))] == [
        tenant_a.member.email
    ]
    assert [r.recipient for r in rows(kind="meeting_reminder", object_ref=about(theirs))] == [
        tenant_b.member.email
    ]
    # No scope outlives a task: the next one in this worker starts with none.
    with pytest.raises(ScopeError):
        list(Meeting.objects.all())


def test_a_rolled_back_dispatch_leaves_nothing(tenant_a):
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        assert dispatch(tenant_a, NOW) >= 1
        raise Abort
    assert sent_to("meeting_reminder", meeting) == []


# Rendering once per shape
# ------------------------------------------------------------------------------


def test_one_render_per_shape_with_each_recipients_own_name_and_link(tenant_a, monkeypatch):
    from django.utils.html import escape

    from alliance.notifications.unsubscribe import _payload, unsubscribe_url

    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    names = ["Ann O'Brien & <Sons>", "Bob Smith", XSS]
    memberships = [member(tenant_a, user__full_name=name, user__time_zone="") for name in names]
    for membership in memberships:
        register(tenant_a, meeting, membership)
    renders = []
    render_in_full = reminders.render_reminder

    def counting(**kwargs):
        renders.append(kwargs["template"])
        return render_in_full(**kwargs)

    monkeypatch.setattr(reminders, "render_reminder", counting)
    dispatch(tenant_a, NOW)
    assert renders.count(reminders.TEMPLATE_REMINDER) == 1
    by_recipient = {r.recipient: r for r in rows(kind="meeting_reminder")}
    assert len(by_recipient) == len(memberships)
    # Stored once, shared by the three rows, each keeping only its own name and link.
    assert len({row.shared_body_id for row in by_recipient.values()} - {None}) == 1
    assert {row.text_body + row.html_body for row in by_recipient.values()} == {""}
    for membership in memberships:
        row = by_recipient[membership.user.email]
        content = content_of(row)
        name = membership.user.full_name
        assert f"Dear {name}," in content.text
        assert f"Dear {escape(name)}," in content.html
        # The signed token holds a timestamp: compare what it names, not its text.
        [link] = re.findall(r"\S+/unsubscribe/[^/\s]+/", content.text)
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert _payload(token) == (membership.pk, tenant_a.alliance.pk, "reminders")
        assert link.startswith(unsubscribe_url(membership, "reminders").split("/unsubscribe/")[0])
        assert f"<{link}>" in row.headers["List-Unsubscribe"]
        assert escape(link) in content.html
        assert "\ue000" not in row.subject + content.text + content.html
    assert "<script>" not in content_of(by_recipient[memberships[2].user.email]).html


def test_a_stand_in_a_template_changed_means_a_full_render(tenant_a, monkeypatch):
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    membership = member(tenant_a, user__full_name="Carol Jones")
    register(tenant_a, meeting, membership)
    render_in_full = reminders.render_reminder

    def upper_name(**kwargs):  # as if a template upper-cased the name
        subject, text, html = render_in_full(**kwargs)
        return subject, text.replace("\ue000name\ue000", "\ue000NAME\ue000"), html

    monkeypatch.setattr(reminders, "render_reminder", upper_name)
    dispatch(tenant_a, NOW)
    (row,) = rows(kind="meeting_reminder")
    assert row.shared_body_id is None
    assert "Dear Carol Jones," in row.text_body
    assert "\ue000" not in row.text_body
    # Rendered in full, the frame's footer carries the row's own link.
    [link] = re.findall(r"\S+/unsubscribe/[^/\s]+/", row.text_body)
    assert f'href="{link}"' in row.html_body and "\ue000" not in row.html_body


def test_the_frame_carries_the_events_title_preheader_and_links(tenant_a):
    from django.utils.html import escape

    title = 'Q&A: "Safety" <first> & last'
    meeting = meeting_at(
        tenant_a,
        NOW + 20 * HOUR,
        title=title,
        format=Meeting.Format.IN_PERSON,
        venue="Room 1",
        address="",
    )
    register(tenant_a, meeting, tenant_a.membership)
    dispatch(tenant_a, NOW)
    (row,) = rows(kind="meeting_reminder")
    html = content_of(row).html
    assert html.count("<title>") == 1
    assert f"<title>Reminder: {escape(title)}</title>" in html
    preheader = re.search(r'mso-hide:all;">(.*?)</div>', html).group(1)
    assert preheader.endswith(" · Room 1") and len(preheader) > len(" · Room 1")
    assert "<h1 style=" in html and f">{escape(title)}</h1>" in html
    assert "Choose which emails you get" in html and "Unsubscribe from these reminders" in html
    assert row.subject.startswith(f"Reminder: {title}, ")


def test_a_registration_of_another_alliances_member_is_reported_not_written_to(
    tenant_a, tenant_b, caplog
):
    meeting = meeting_at(tenant_a, NOW + 20 * HOUR)
    register(tenant_a, meeting, tenant_a.membership)
    register(tenant_a, meeting, tenant_b.membership)  # as no form or service would
    with caplog.at_level(logging.WARNING, logger="alliance.notifications.reminders"):
        dispatch(tenant_a, NOW)
    assert [recipient for recipient, _ in sent_to("meeting_reminder", meeting)] == [
        tenant_a.member.email
    ]
    assert f"membership {tenant_b.membership.pk} is not in its meeting's alliance" in caplog.text
