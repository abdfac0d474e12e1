"""Progress digests: who, when, what (against a hand-built expectation), how it is
sent, what it costs in queries, and the staff preview.

Time is fixed at NOW (1 May 2021, 07:30 in New York: the alliance's monthly
digest is due). Rows the tenant fixtures create carry today's real timestamps,
later than NOW: the digest looks at things as they stood at NOW, so they are
neither news nor readings yet, and only what a test dates itself counts.
"""

import base64
import datetime
import io
import threading
from decimal import Decimal
from email import message_from_bytes

import pytest
from celery.schedules import crontab
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from PIL import Image

from alliance.models import Alliance, OutgoingEmail, Publication
from alliance.notifications import delivery, digests, outbox
from alliance.notifications.delivery import Outcome
from alliance.notifications.unsubscribe import bulk_header_problems, membership_from_token
from members.models import DigestPreference, Membership, Organization, Role, User
from roundtables.models import Roundtable, RoundtableRegistration
from sessions.models import Audience, Meeting, Registration
from tests.factories import (
    AllianceFactory,
    GoalFactory,
    GoalSetFactory,
    MeasureFactory,
    MeetingFactory,
    MembershipFactory,
    OrganizationFactory,
    OutgoingEmailFactory,
    ParticipationFactory,
    ProgramYearFactory,
    PublicationFactory,
    ReadingFactory,
    RegistrationFactory,
    RoundtableFactory,
    WorkgroupFactory,
)
from tests.needs import needs_postgresql
from workgroups.models import Aim, Measure, Participation, Reading

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


NOW = utc(2021, 5, 1, 11, 30)  # Saturday 1 May 2021, 07:30 in New York
LAST_DIGEST = utc(2021, 4, 1, 11, 5)  # April's digest went out on its day
BEFORE = utc(2021, 3, 10)  # long before April's digest
MAY = "monthly:2021-05"


def d(year, month) -> datetime.date:
    return datetime.date(year, month, 1)


def dated(model, obj, **fields) -> None:
    """Set timestamps the model sets itself (auto_now), as if it happened then."""
    with scopes_disabled():  # a test setting up rows
        model.objects.filter(pk=obj.pk).update(**fields)


def previous_digest(membership, *, key="monthly:2021-04", at=LAST_DIGEST, **fields):
    row = OutgoingEmailFactory(
        alliance=membership.alliance,
        kind="digest",
        object_ref=f"members.membership:{membership.pk}",
        recipient=membership.user.email,
        key=key,
        status=OutgoingEmail.Status.SENT,
        **fields,
    )
    dated(OutgoingEmail, row, created_at=at)
    return row


def news(alliance, *, at, title="A new report") -> Publication:
    """Something new for everyone: a collective-voice publication added at `at`."""
    publication = PublicationFactory(alliance=alliance, title=title)
    dated(Publication, publication, created_at=at)
    return publication


def digest_rows(alliance=None) -> list[OutgoingEmail]:
    """Digests the code under test queued (the history `previous_digest` makes is sent)."""
    with scopes_disabled():
        rows = OutgoingEmail.objects.filter(kind="digest").exclude(status="sent")
        if alliance is not None:
            rows = rows.filter(alliance=alliance)
        return list(rows.order_by("pk"))


def build_one(membership, *, now=NOW, as_a_run=False) -> tuple[digests.Digest, dict]:
    """The digest `membership` gets at `now`, and its rendered message. `as_a_run`:
    the feed knows the run's moments beforehand (see load_feed), as in a run;
    otherwise a signal's history is read again when asked."""
    alliance = membership.alliance
    period = digests.digest_period(alliance=alliance, cadence="monthly", now=now)
    moments = ()
    if as_a_run:
        history = digests.digest_history(alliance=alliance, period=period)
        moments = digests.since_moments(history, period)
    feed = digests.load_feed(
        alliance=alliance, now=now, since_floor=period.previous_starts_at, moments=moments
    )
    members = digests.recipients(alliance=alliance, period=period, subscribed_only=False)
    (member,) = digests.with_digest_history(
        alliance=alliance,
        period=period,
        memberships=list(members.filter(pk=membership.pk)),
        unsent_only=False,
    )
    (digest,) = digests.build_batch(feed=feed, period=period, memberships=[member])
    return digest, digests.render_digest(feed=feed, digest=digest)


# The world of the content test
# ------------------------------------------------------------------------------

# Pooled OSHA rate per period: numerators of A and of a peer, each over 100,000
# hours, so the pooled value is the sum of the numerators. A skips Feb 2021.
SERIES = {
    d(2020, 7): (6, 4),  # 10  ┐
    d(2020, 8): (5, 6),  # 11  ├ baseline: median 11
    d(2020, 9): (7, 5),  # 12  ┘
    d(2020, 10): (5, 5),  # 10
    d(2020, 11): (4, 5),  # 9
    d(2020, 12): (4, 4),  # 8
    d(2021, 1): (3, 4),  # 7
    d(2021, 2): (None, 3),  # 6 (the peer alone: 3 / 100,000 × 200,000)
    d(2021, 3): (2, 3),  # 5, entered after April's digest
}
# April (entered this morning): A 1 in 50,000 hours, the peer 2 in 150,000.
APRIL = {"own": (Decimal(1), Decimal(50000)), "peer": (Decimal(2), Decimal(150000))}


@pytest.fixture
def world(in_scope):
    """Alliance A with a year of readings, a goal, events, recordings and publications."""
    a = in_scope
    alliance, ceo, org = a.alliance, a.membership, a.organization
    Alliance.objects.filter(pk=alliance.pk).update(
        time_zone="America/New_York",
        digest_cadence="monthly",
        digest_day_of_month=1,
        digest_hour=7,
    )
    alliance.refresh_from_db()
    Measure.objects.filter(pk=a.measure.pk).update(first_period=d(2020, 7), decimals=1)
    Aim.objects.filter(pk=a.aim.pk).update(
        baseline_start=d(2020, 7),
        baseline_end=d(2020, 9),
        baseline_value=Decimal(11),
        target_kind=Aim.TargetKind.ABSOLUTE,
        target_value=Decimal(1),
        starts_on=datetime.date(2021, 1, 1),
        due_on=datetime.date(2021, 9, 30),
        statement="Reduce the injury rate to 1 by September",
    )
    peer = OrganizationFactory(alliance=alliance, name="Peer Hospital")
    ParticipationFactory(workgroup=a.workgroup, organization=peer, joined_on=d(2020, 7))
    Participation.objects.filter(workgroup=a.workgroup, organization=org).update(
        joined_on=d(2020, 7)
    )

    def reading(organization, period, numerator, denominator, at, measure=a.measure):
        return ReadingFactory(
            alliance=alliance,
            measure=measure,
            organization=organization,
            period_start=period,
            numerator=numerator,
            denominator=denominator,
            entered_by=a.member,
            updated_by=a.member,
            entered_at=at,
            updated_at=at,
        )

    # The fixture's reading is A's October.
    Reading.objects.filter(pk=a.reading.pk).update(
        numerator=5, denominator=100000, entered_at=BEFORE, updated_at=BEFORE
    )
    for period, (own, other) in SERIES.items():
        at = utc(2021, 4, 15) if period == d(2021, 3) else BEFORE
        if own is not None and period != d(2020, 10):
            reading(org, period, own, 100000, at)
        reading(peer, period, other, 100000, at)
    this_morning = utc(2021, 5, 1, 9)
    reading(org, d(2021, 4), *APRIL["own"], this_morning)
    reading(peer, d(2021, 4), *APRIL["peer"], this_morning)

    # A's goal (count, baseline 12, theoretical limit 0): 6 in March.
    reading(org, d(2021, 3), 6, None, BEFORE, measure=a.goal.measure)

    # Events: within 60 days and not; for CEOs only; cancelled.
    spring = MeetingFactory(
        alliance=alliance,
        program_year=a.program_year,
        title="Spring CEO meeting",
        starts_at=utc(2021, 5, 20, 14),
        ends_at=utc(2021, 5, 20, 17),
        audience=Audience.CEOS,
        substitutes_allowed=False,
    )
    RegistrationFactory(
        alliance=alliance,
        meeting=spring,
        membership=ceo,
        response=Registration.Response.IN_PERSON,
    )
    MeetingFactory(
        alliance=alliance,
        program_year=a.program_year,
        title="Autumn meeting",
        starts_at=utc(2021, 7, 15, 14),
        ends_at=utc(2021, 7, 15, 17),
    )
    MeetingFactory(
        alliance=alliance,
        program_year=a.program_year,
        title="Cancelled meeting",
        starts_at=utc(2021, 5, 10, 14),
        ends_at=utc(2021, 5, 10, 17),
        status=Meeting.Status.CANCELLED,
    )
    RoundtableFactory(
        alliance=alliance,
        program_year=a.program_year,
        title="Roundtable on safety culture",
        starts_at=utc(2021, 6, 10, 17),
        ends_at=utc(2021, 6, 10, 18, 30),
    )
    recent = RoundtableFactory(
        alliance=alliance,
        program_year=a.program_year,
        title="Roundtable on opioids",
        starts_at=utc(2021, 4, 8, 17),
        ends_at=utc(2021, 4, 8, 18, 30),
        recording_url="https://video.example.org/r/opioids",
    )
    dated(Roundtable, recent, updated_at=utc(2021, 4, 20))
    older = RoundtableFactory(
        alliance=alliance,
        program_year=a.program_year,
        title="Roundtable on the workforce",
        starts_at=utc(2021, 1, 14, 17),
        ends_at=utc(2021, 1, 14, 18, 30),
        recording_url="https://video.example.org/r/workforce",
    )
    dated(Roundtable, older, updated_at=utc(2021, 2, 1))
    news(alliance, at=utc(2021, 4, 22), title="Safety article in NEJM Catalyst")
    news(alliance, at=utc(2021, 3, 5), title="Last winter's report")
    previous_digest(ceo)
    return a


# What a digest says
# ------------------------------------------------------------------------------


def test_content_matches_a_hand_built_expectation(world):
    digest, message = build_one(world.membership)
    assert digest.since == LAST_DIGEST

    (workgroup,) = digest.workgroups
    assert workgroup["name"] == world.workgroup.name
    (measure,) = workgroup["measures"]
    # Pooled: Σ numerators / Σ denominators × 200,000 — not the mean of the rates.
    (own_n, own_d), (peer_n, peer_d) = APRIL["own"], APRIL["peer"]
    pooled = (own_n + peer_n) / (own_d + peer_d) * 200000
    assert pooled == Decimal(3)
    assert (own_n / own_d + peer_n / peer_d) / 2 * 200000 != pooled
    assert measure["pooled"] == "3.0"
    assert measure["pooled_period"] == "Apr 2021"
    assert measure["pooled_reporting"] == 2
    # A's latest value beside it: 1 / 50,000 × 200,000.
    assert measure["own"] == "4.0" and measure["own_period"] == "Apr 2021"
    # Progress from the frozen baseline 11 toward the target 1: (3 − 11) / (1 − 11).
    assert measure["aim"]["percent"] == 80 and measure["aim"]["bar"] == 80
    assert measure["aim"]["baseline"] == "11.0" and measure["aim"]["target"] == "1.0"
    # 120 of the aim's 272 days have passed.
    assert measure["aim"]["expected"] == 44 and measure["aim"]["pace"] == "on pace"
    # The trend (Sep 2020 on) was on the chart at April's digest; the shift
    # (7 points below the baseline median of 11) appeared with March and April.
    assert measure["new_signals"] == [
        "Shift: 7 points in a row below the median (Oct 2020 – Apr 2021)."
    ]
    assert measure["missing"] == ["Feb 2021"]

    (goal,) = digest.goals
    assert goal["statement"] == world.goal.statement
    assert goal["latest"] == "6.0" and goal["latest_period"] == "Mar 2021"
    assert goal["progress"]["percent"] == 50  # (6 − 12) / (0 − 12)

    assert [(e["kind"], e["title"], e["status"]) for e in digest.events] == [
        ("Meeting", "Spring CEO meeting", "Attending in person"),
        ("Roundtable", "Roundtable on safety culture", "You have not registered"),
    ]
    assert [r["title"] for r in digest.recordings] == ["Roundtable on opioids"]
    assert [p["title"] for p in digest.publications] == ["Safety article in NEJM Catalyst"]
    assert digest.has_news

    text, html = message["text_body"], message["html_body"]
    for part in (text, html):
        assert "Shift: 7 points in a row below the median (Oct 2020 – Apr 2021)." in part
        assert "Trend:" not in part
        assert "Feb 2021" in part
        assert "Spring CEO meeting" in part and "Attending in person" in part
        assert "Roundtable on opioids" in part and "Roundtable on the workforce" not in part
        assert "Safety article in NEJM Catalyst" in part and "Last winter" not in part
        assert "Autumn meeting" not in part and "Cancelled meeting" not in part
        assert world.goal.statement in part
    assert "3.0" in text and "4.0" in text and "[########--] 80%" in text
    # The progress bar is a table cell as wide as the progress; no script, no SVG.
    assert 'width="80%"' in html and 'width="20%"' in html
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    assert message["subject"] == (
        f"{world.alliance.short_name} progress digest, May 2021: 1 new signal"
    )


def test_the_html_fits_375_and_800_px_and_runs_nothing_in_chromium(world):
    from playwright.sync_api import sync_playwright

    from tests.browser import tools

    _, message = build_one(world.membership)
    html = message["html_body"]
    # Served as a careful mail client would: no script may run, none is needed.
    headers = {"Content-Security-Policy": "script-src 'none'; object-src 'none'"}
    executable = tools.chromium()
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=tools.CHROMIUM_ARGS)
        try:
            for width in (375, 800):
                context = browser.new_context(viewport={"width": width, "height": 800})
                page = context.new_page()
                page.on("console", lambda message, width=width: problems.append((width, message)))
                context.route(
                    "**/*",
                    lambda route: route.fulfill(
                        status=200, content_type="text/html", headers=headers, body=html
                    ),
                )
                page.goto("https://mail.invalid/digest.html")
                wide, viewport = page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                if wide > viewport:
                    problems.append((width, f"{wide} px wide"))
                context.close()
        finally:
            browser.close()
    assert problems == []


@pytest.mark.parametrize("as_a_run", [True, False], ids=["moments known", "read again"])
def test_a_signal_reported_in_the_previous_digest_is_not_repeated(world, as_a_run):
    # Without April's digest the member has heard nothing since 1 April: the
    # trend and the shift (both on the chart now) — the trend was there by then.
    OutgoingEmail.objects.filter(kind="digest").delete()
    digest, _ = build_one(world.membership, as_a_run=as_a_run)
    assert digest.since == utc(2021, 4, 1, 4)  # the previous period's start
    (measure,) = digest.workgroups[0]["measures"]
    assert [s.split(":")[0] for s in measure["new_signals"]] == ["Shift"]

    # Once the May digest reported the shift, June's does not repeat it.
    previous_digest(world.membership, key=MAY, at=NOW)
    digest, _ = build_one(world.membership, now=utc(2021, 6, 1, 11, 30), as_a_run=as_a_run)
    assert digest.workgroups[0]["measures"][0]["new_signals"] == []


def test_a_feed_reads_no_reading_again_for_the_moments_it_was_given(world):
    # A run gives load_feed every member's "since": no query per measure later.
    OutgoingEmail.objects.filter(kind="digest").delete()
    previous_digest(world.membership, key=MAY, at=NOW)
    now = utc(2021, 6, 1, 11, 30)
    period = digests.digest_period(alliance=world.alliance, cadence="monthly", now=now)
    history = digests.digest_history(alliance=world.alliance, period=period)
    feed = digests.load_feed(
        alliance=world.alliance,
        now=now,
        since_floor=period.previous_starts_at,
        moments=digests.since_moments(history, period),
    )
    (member,) = digests.with_digest_history(
        alliance=world.alliance,
        period=period,
        memberships=[world.membership],
        history=history,
    )
    with CaptureQueriesContext(connection) as queries:
        (digest,) = digests.build_batch(feed=feed, period=period, memberships=[member])
    assert digest.since == NOW
    assert not [q for q in queries if "workgroups_reading" in q["sql"]]


def test_a_measures_signals_at_a_moment_are_worked_out_once_per_feed(world, monkeypatch):
    # A batch's members mostly share their "since": one look per moment, not per member.
    now = utc(2021, 6, 1, 11, 30)
    period = digests.digest_period(alliance=world.alliance, cadence="monthly", now=now)
    feed = digests.load_feed(
        alliance=world.alliance, now=now, since_floor=period.previous_starts_at
    )
    worked_out, signals_then = [], digests._signals_then
    monkeypatch.setattr(
        digests,
        "_signals_then",
        lambda feed, data, moment: worked_out.append(moment) or signals_then(feed, data, moment),
    )
    data = feed.measures[world.measure.pk]
    first = digests._signals_at(feed, data, NOW)
    assert digests._signals_at(feed, data, NOW) == first
    assert worked_out == [NOW]
    digests._signals_at(feed, data, LAST_DIGEST)
    assert worked_out == [NOW, LAST_DIGEST]


def test_streamed_rows_are_the_rows_django_gives(world, monkeypatch):
    # On PostgreSQL the feed reads psycopg2's rows as they come (stream_rows):
    # each column must already be what Django's converters would make of it.
    Reading.objects.filter(pk=world.reading.pk).update(
        numerator=Decimal("2.5"), denominator=None, achieved=True
    )
    readings = (
        Reading.objects.filter(alliance=world.alliance)
        .order_by("measure_id", "entered_at", "pk")
        .values_list("measure_id", *digests._feed_columns())
    )
    streamed = list(digests.stream_rows(readings, chunk_size=3))
    assert len(streamed) > 3  # more than one chunk
    assert streamed == list(readings)
    for row, expected in zip(streamed, readings, strict=True):
        assert [type(value) for value in row] == [type(value) for value in expected]
    # The numerator and denominator become the Decimals Django gives for the
    # fields, exponent and all, one object per distinct value.
    decimals = digests._Decimals()
    numbers = [(decimals[row[3]], decimals[row[4]]) for row in streamed]
    django_numbers = readings.values_list("numerator", "denominator")
    assert [tuple(map(repr, pair)) for pair in numbers] == [
        tuple(map(repr, pair)) for pair in django_numbers
    ]
    assert (Decimal("2.5"), None) in numbers
    assert len({id(n) for n, _ in numbers}) == len({n for n, _ in numbers})
    assert True in {row[5] for row in streamed}
    # Behind a pooler that cannot keep a server-side cursor: a plain one.
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    monkeypatch.setattr(connection, "chunked_cursor", lambda: pytest.fail("server-side"))
    assert list(digests.stream_rows(readings, chunk_size=3)) == streamed


def test_meetings_for_ceos_only_are_not_listed_to_others(world):
    trustee = MembershipFactory(
        alliance=world.alliance, organization=world.organization, role=Role.TRUSTEE
    )
    digest, _ = build_one(trustee)
    assert [e["title"] for e in digest.events] == ["Roundtable on safety culture"]


def test_times_are_in_the_members_zone_too(world):
    User.objects.filter(pk=world.member.pk).update(time_zone="Europe/London")
    digest, _ = build_one(Membership.objects.get(pk=world.membership.pk))
    spring = digest.events[0]
    assert spring["when"].startswith("Thursday 20 May 2021, 10:00 AM") and "EDT" in spring["when"]
    assert "3:00 PM" in spring["when_yours"] and "BST" in spring["when_yours"]


def test_skipped_when_there_is_nothing_new(in_scope, django_capture_on_commit_callbacks):
    a = in_scope
    previous_digest(a.membership)
    news(a.alliance, at=utc(2021, 3, 20))  # before April's digest
    old_meeting = MeetingFactory(
        alliance=a.alliance,
        program_year=a.program_year,
        title="A meeting announced long ago",
        starts_at=utc(2021, 6, 20, 14),  # after the next digest (1 June)
        ends_at=utc(2021, 6, 20, 17),
    )
    dated(Meeting, old_meeting, created_at=BEFORE, updated_at=BEFORE)

    digest, _ = build_one(a.membership)
    assert digest.events and not digest.has_news
    result = digests.send_alliance_digests(alliance=a.alliance, now=NOW)
    assert (result.queued, result.skipped) == (0, 1)
    assert digest_rows() == []

    # The meeting changes: news again (and so does anything else new).
    dated(Meeting, old_meeting, updated_at=utc(2021, 4, 25))
    result = digests.send_alliance_digests(alliance=a.alliance, now=NOW)
    assert result.queued == 1


def test_a_meeting_before_the_next_digest_is_worth_a_digest(in_scope):
    a = in_scope
    previous_digest(a.membership)
    soon = MeetingFactory(
        alliance=a.alliance,
        program_year=a.program_year,
        title="Next week's meeting",
        starts_at=utc(2021, 5, 8, 14),
        ends_at=utc(2021, 5, 8, 17),
    )
    dated(Meeting, soon, created_at=BEFORE, updated_at=BEFORE)
    digest, _ = build_one(a.membership)
    assert digest.has_news
    assert digest.events[0]["status"] == "You have not answered yet"


def test_a_new_reading_by_anyone_in_the_workgroup_is_news(in_scope):
    a = in_scope
    previous_digest(a.membership)
    peer = OrganizationFactory(alliance=a.alliance)
    ParticipationFactory(workgroup=a.workgroup, organization=peer)
    ReadingFactory(
        alliance=a.alliance,
        measure=a.measure,
        organization=peer,
        period_start=d(2021, 3),
        entered_by=a.member,
        updated_by=a.member,
        entered_at=utc(2021, 4, 10),
        updated_at=utc(2021, 4, 10),
    )
    digest, _ = build_one(a.membership)
    assert digest.new_readings and digest.has_news


# Who receives it
# ------------------------------------------------------------------------------


def test_who_receives_a_digest(in_scope):
    a = in_scope
    alliance, org = a.alliance, a.organization
    Alliance.objects.filter(pk=alliance.pk).update(digest_cadence="monthly")
    alliance.refresh_from_db()

    def member(role=Role.QUALITY_LEAD, digest=DigestPreference.DEFAULT, **fields):
        return MembershipFactory(
            alliance=alliance, organization=org, role=role, digest=digest, **fields
        )

    ceo_default = a.membership
    quality_default = member()
    quality_monthly = member(digest=DigestPreference.MONTHLY)
    trustee_weekly = member(role=Role.TRUSTEE, digest=DigestPreference.WEEKLY)
    ceo_off = member(role=Role.CEO, digest=DigestPreference.OFF)
    ceo_inactive = member(role=Role.CEO, is_active=False)
    ceo_user_inactive = member(role=Role.CEO, user__is_active=False)
    staff_monthly = MembershipFactory(
        alliance=alliance, role=Role.ALLIANCE_STAFF, digest=DigestPreference.MONTHLY
    )

    def due(now, force=False):
        return {
            (period.cadence, m.pk)
            for period, m in digests.digest_recipients(alliance=alliance, now=now, force=force)
        }

    assert due(NOW) == {
        ("monthly", ceo_default.pk),
        ("monthly", quality_monthly.pk),
        ("monthly", staff_monthly.pk),
    }
    # The weekly one is due on Mondays (the alliance's weekday) at 07:00.
    assert due(utc(2021, 5, 3, 11)) == {("weekly", trustee_weekly.pk)}
    not_due = {quality_default, ceo_off, ceo_inactive, ceo_user_inactive}
    assert not {pk for _, pk in due(NOW, force=True)} & {m.pk for m in not_due}

    # With the alliance's digests off, CEOs on "default" get none; opt-ins still do.
    Alliance.objects.filter(pk=alliance.pk).update(digest_cadence="off")
    alliance.refresh_from_db()
    assert due(NOW) == {("monthly", quality_monthly.pk), ("monthly", staff_monthly.pk)}

    # A weekly alliance sends its CEOs the weekly digest.
    Alliance.objects.filter(pk=alliance.pk).update(digest_cadence="weekly")
    alliance.refresh_from_db()
    assert ("weekly", ceo_default.pk) in due(utc(2021, 5, 3, 11))
    assert ("monthly", ceo_default.pk) not in due(NOW)


# When
# ------------------------------------------------------------------------------


def _alliance(**fields) -> Alliance:
    return Alliance(name="Schedule test", slug="schedule", contact_email="x@example.org", **fields)


def test_weekly_schedule_is_the_alliances_weekday_and_hour_in_its_zone():
    alliance = _alliance(time_zone="America/Los_Angeles", digest_weekday=2, digest_hour=9)
    wednesday_before = utc(2026, 11, 18, 16, 59)  # 08:59 PST
    wednesday_at = utc(2026, 11, 18, 17, 0)  # 09:00 PST
    period = digests.digest_period(alliance=alliance, cadence="weekly", now=wednesday_at)
    assert period.key == "weekly:2026-W47"
    assert period.label == "week of 16 November 2026"
    assert period.scheduled_at == wednesday_at

    def due(now):
        return [p.key for p in digests.due_periods(alliance=alliance, now=now)]

    assert due(wednesday_before) == []
    assert due(wednesday_at) == ["weekly:2026-W47"]
    # Caught up when the job missed the hour (downtime)...
    assert due(wednesday_at + datetime.timedelta(hours=5)) == ["weekly:2026-W47"]
    # ...but not days later: the week's digest is missed, next week's goes.
    assert due(wednesday_at + datetime.timedelta(days=2)) == []
    # Monday 02:00 UTC is still Sunday in Los Angeles: the week before.
    sunday = digests.digest_period(alliance=alliance, cadence="weekly", now=utc(2026, 11, 23, 2))
    assert sunday.key == "weekly:2026-W47"


def test_monthly_schedule_is_the_alliances_day_and_hour_in_its_zone():
    alliance = _alliance(time_zone="Asia/Tokyo", digest_day_of_month=15, digest_hour=7)
    at = utc(2026, 11, 14, 22)  # 15 November, 07:00 in Tokyo
    period = digests.digest_period(alliance=alliance, cadence="monthly", now=at)
    assert (period.key, period.label) == ("monthly:2026-11", "November 2026")
    assert period.previous_starts_at == datetime.datetime(
        2026, 10, 1, tzinfo=period.starts_at.tzinfo
    )

    def due(now):
        periods = digests.due_periods(alliance=alliance, now=now)
        return [p.key for p in periods if p.cadence == "monthly"]

    assert due(at - datetime.timedelta(minutes=1)) == []
    assert due(at) == ["monthly:2026-11"]
    assert due(at + datetime.timedelta(hours=23)) == ["monthly:2026-11"]
    assert due(at + datetime.timedelta(hours=25)) == []
    forced = digests.due_periods(alliance=alliance, now=at - datetime.timedelta(days=3), force=True)
    assert [p.key for p in forced] == ["weekly:2026-W46", "monthly:2026-11"]


def test_catch_up_and_twice_in_one_period_make_one_row(in_scope):
    a = in_scope
    news(a.alliance, at=utc(2021, 4, 28))
    assert digests.send_alliance_digests(alliance=a.alliance, now=utc(2021, 5, 1, 10)).queued == 0
    five_hours_late = utc(2021, 5, 1, 16)
    assert digests.send_alliance_digests(alliance=a.alliance, now=five_hours_late).queued == 1
    again = digests.send_alliance_digests(alliance=a.alliance, now=five_hours_late)
    assert (again.queued, again.skipped) == (0, 0)
    assert digests.send_alliance_digests(alliance=a.alliance, now=utc(2021, 5, 2, 1)).queued == 0
    (row,) = digest_rows()
    assert (row.key, row.object_ref) == (MAY, f"members.membership:{a.membership.pk}")
    assert row.recipient == a.member.email


def test_the_command_sends_now_and_is_idempotent(tenant_a, tenant_b, capsys):
    # Real time: the fixtures' rows are new, whatever the day.
    call_command("send_digests", "--alliance", tenant_a.alliance.slug, "--now")
    rows = digest_rows()
    assert {r.recipient for r in rows} == {tenant_a.member.email}
    assert {r.alliance_id for r in rows} == {tenant_a.alliance.pk}
    call_command("send_digests", "--alliance", tenant_a.alliance.slug, "--now")
    assert digest_rows() == rows
    assert "0 queued" in capsys.readouterr().out


def test_the_beat_job_fans_out_one_task_per_alliance(tenant_a, tenant_b, monkeypatch):
    from alliance.celery_app import app
    from alliance.notifications import tasks

    entry = app.conf.beat_schedule["notifications.send_digests"]
    assert entry["task"] == "notifications.send_digests"
    assert entry["schedule"] == crontab(minute=0)
    for tenant in (tenant_a, tenant_b):
        news(tenant.alliance, at=utc(2021, 4, 28))
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    assert tasks.send_digests.delay().get() == 2
    assert {(r.alliance_id, r.recipient) for r in digest_rows()} == {
        (tenant_a.alliance.pk, tenant_a.member.email),
        (tenant_b.alliance.pk, tenant_b.member.email),
    }


# How it is sent
# ------------------------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#1d4f91").save(buffer, format="PNG")
    return buffer.getvalue()


def test_multipart_with_unsubscribe_headers_reply_to_and_inline_logo(
    in_scope, django_capture_on_commit_callbacks
):
    a = in_scope
    a.alliance.logo.save("logo.png", SimpleUploadedFile("logo.png", _png(400, 200)))
    news(a.alliance, at=utc(2021, 4, 28))
    with django_capture_on_commit_callbacks(execute=True):
        assert digests.send_alliance_digests(alliance=a.alliance, now=NOW).queued == 1
    (message,) = mail.outbox
    assert message.to == [a.member.email]
    assert message.reply_to == [a.alliance.contact_email]
    assert message.from_email.startswith(f'"{a.alliance.name}" <') or message.from_email.startswith(
        f"{a.alliance.name} <"
    )
    parsed = message_from_bytes(message.message().as_bytes())
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = parsed["List-Unsubscribe"]
    assert "/unsubscribe/" in unsubscribe and "mailto:" + a.alliance.contact_email in unsubscribe
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    html = next(p for p in parsed.walk() if p.get_content_type() == "text/html")
    assert 'src="cid:alliance-logo"' in html.get_payload(decode=True).decode()
    logo = next(p for p in parsed.walk() if p.get_content_type() == "image/png")
    assert logo["Content-ID"] == "<alliance-logo>"
    with Image.open(io.BytesIO(logo.get_payload(decode=True))) as image:
        assert image.size == (160, 80)  # scaled into 480 × 80
    text = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
    assert "Stop progress digests: http" in text.get_payload(decode=True).decode()
    with scopes_disabled():
        assert bulk_header_problems(OutgoingEmail.objects.filter(kind="digest")) == []


def test_the_footer_links_unsubscribe_this_member_from_digests(in_scope):
    a = in_scope
    news(a.alliance, at=utc(2021, 4, 28))
    _, message = build_one(a.membership)
    link = message["text_body"].split("Stop progress digests: ", 1)[1].split()[0]
    assert f'href="{link}"' in message["html_body"]
    assert message["headers"]["List-Unsubscribe"].startswith(f"<{link}>, <mailto:")
    token = link.rstrip("/").rsplit("/", 1)[1]
    membership, what = membership_from_token(token)
    assert (membership.pk, what) == (a.membership.pk, "digest")


def test_without_a_logo_the_header_has_the_name_alone(in_scope):
    a = in_scope
    news(a.alliance, at=utc(2021, 4, 28))
    digests.send_alliance_digests(alliance=a.alliance, now=NOW)
    (row,) = digest_rows()
    assert row.attachments == []
    assert "cid:" not in row.html_body and a.alliance.name in row.html_body


def test_delivery_puts_inline_images_with_the_html_and_keeps_other_attachments():
    alliance = AllianceFactory()
    image = base64.b64encode(_png(4, 2)).decode()
    row = outbox.enqueue_rendered(
        kind="test",
        recipient="member@example.org",
        subject="With a logo",
        text_body="Text",
        html_body='<p><img src="cid:logo" alt=""> HTML</p>',
        alliance=alliance,
        attachments=[
            {
                "filename": "logo.png",
                "content_base64": image,
                "mimetype": "image/png",
                "cid": "logo",
            },
            {"filename": "m.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"},
            {"filename": "a.pdf", "content_base64": "JVBERg==", "mimetype": "application/pdf"},
        ],
    )
    assert delivery.deliver(row.pk) is Outcome.SENT
    parsed = message_from_bytes(mail.outbox[0].message().as_bytes())
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "text/calendar",
        "application/pdf",
    ]
    parts = list(parsed.walk())
    assert parts[5]["Content-ID"] == "<logo>"
    assert parts[5].get_content_disposition() == "inline"
    assert parts[5].get_payload(decode=True) == base64.b64decode(image)
    assert parts[7].get_payload(decode=True) == b"%PDF"


XSS = {
    "organization": '<script>alert("org")</script> & Co',
    "workgroup": "<img src=x onerror=alert(1)>",
    "measure": '"><svg onload=alert(2)>',
    "meeting": "<iframe src=javascript:alert(3)>",
}


def test_names_are_escaped_in_html_and_harmless_in_text(in_scope):
    a = in_scope
    Organization.objects.filter(pk=a.organization.pk).update(name=XSS["organization"])
    a.workgroup.name = XSS["workgroup"]
    a.workgroup.save()
    Measure.objects.filter(pk=a.measure.pk).update(name=XSS["measure"])
    MeetingFactory(
        alliance=a.alliance,
        program_year=a.program_year,
        title=XSS["meeting"] + "\r\nBcc: victim@example.org",
        starts_at=utc(2021, 5, 5, 14),
        ends_at=utc(2021, 5, 5, 15),
    )
    membership = Membership.objects.select_related("user").get(pk=a.membership.pk)
    _, message = build_one(membership)
    html, text = message["html_body"], message["text_body"]
    for payload in XSS.values():
        assert payload not in html
        assert payload in text  # plain text: shown as typed, never interpreted
    assert "&lt;script&gt;alert(&quot;org&quot;)&lt;/script&gt; &amp; Co" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "<svg" not in html and "<iframe" not in html
    assert "\n" not in message["subject"]


def test_html_is_escaped_exactly_as_djangos_escape_does(in_scope):
    from django.utils.html import escape

    a = in_scope
    name = 'Ann "O\'Brien" & <Sons> &#34;quoted&#39;'
    Organization.objects.filter(pk=a.organization.pk).update(name=name)
    membership = Membership.objects.select_related("user").get(pk=a.membership.pk)
    _, message = build_one(membership)
    html = message["html_body"]
    assert escape(name) in html  # &quot; &#x27; and the member's own "&#34;" as &amp;#34;
    assert "&#34;" not in html and "&#39;" not in html


# Queries
# ------------------------------------------------------------------------------


def _ceos(alliance, workgroup, meeting, roundtable, program_year, count: int, start: int):
    """`count` CEOs, each with an organization in the workgroup, an RSVP, a seat, a goal."""
    organizations = Organization.objects.bulk_create(
        Organization(alliance=alliance, name=f"Hospital {start + i}") for i in range(count)
    )
    users = User.objects.bulk_create(
        User(email=f"ceo{start + i}@example.org", full_name=f"CEO {start + i}")
        for i in range(count)
    )
    memberships = Membership.objects.bulk_create(
        Membership(alliance=alliance, user=user, organization=org, role=Role.CEO)
        for user, org in zip(users, organizations, strict=True)
    )
    Participation.objects.bulk_create(
        Participation(workgroup=workgroup, organization=org, joined_on=d(2020, 10))
        for org in organizations
    )
    Registration.objects.bulk_create(
        Registration(alliance=alliance, meeting=meeting, membership=m, response="virtual")
        for m in memberships
    )
    RoundtableRegistration.objects.bulk_create(
        RoundtableRegistration(
            alliance=alliance, roundtable=roundtable, membership=m, status="registered"
        )
        for m in memberships
    )
    for org in organizations[:3]:  # goals for some: their query is per batch anyway
        goal_set = GoalSetFactory(alliance=alliance, organization=org, program_year=program_year)
        GoalFactory(alliance=alliance, goal_set=goal_set)


def test_queries_per_batch_are_the_same_at_10_and_1000_ceos(db):
    alliance = AllianceFactory(digest_cadence="monthly")
    with scope(alliance=alliance):
        program_year = ProgramYearFactory(alliance=alliance)
        workgroup = WorkgroupFactory(alliance=alliance, program_year=program_year)
        for name in ("OSHA recordables", "DART"):
            measure = MeasureFactory(alliance=alliance, workgroup=workgroup, name=name)
        meeting = MeetingFactory(
            alliance=alliance,
            program_year=program_year,
            starts_at=utc(2021, 5, 20, 14),
            ends_at=utc(2021, 5, 20, 17),
        )
        roundtable = RoundtableFactory(
            alliance=alliance,
            program_year=program_year,
            starts_at=utc(2021, 6, 10, 17),
            ends_at=utc(2021, 6, 10, 18),
        )
        news(alliance, at=utc(2021, 4, 28))
        period = digests.digest_period(alliance=alliance, cadence="monthly", now=NOW)

        def measured():
            with CaptureQueriesContext(connection) as feed_queries:
                feed = digests.load_feed(
                    alliance=alliance, now=NOW, since_floor=period.previous_starts_at
                )
            # A batch as a run builds it: the page, its digest history, the rest.
            with CaptureQueriesContext(connection) as batch_queries:
                members = digests.with_digest_history(
                    alliance=alliance,
                    period=period,
                    memberships=list(digests.recipients(alliance=alliance, period=period)[:1000]),
                )
                batch = digests.build_batch(feed=feed, period=period, memberships=members)
            return len(feed_queries), len(batch_queries), feed, batch

        sizes = {}
        for count, start in ((10, 0), (990, 10)):
            _ceos(alliance, workgroup, meeting, roundtable, program_year, count, start)
            orgs = list(Organization.objects.filter(alliance=alliance).order_by("pk")[:5])
            for org in orgs:  # readings of a few
                ReadingFactory(
                    alliance=alliance,
                    measure=measure,
                    organization=org,
                    period_start=d(2021, 3 if count == 10 else 2),
                    entered_by=User.objects.first(),
                    updated_by=User.objects.first(),
                    entered_at=BEFORE,
                    updated_at=BEFORE,
                )
            feed_count, batch_count, feed, batch = measured()
            sizes[count + start] = (feed_count, batch_count)
            assert len(batch) == count + start
            assert all(digest.has_news for digest in batch)
            first = batch[0]
            assert [e["status"] for e in first.events] == ["Attending virtually", "Registered"]
            assert first.goals and first.workgroups[0]["measures"]
            rendered = digests.render_digest(feed=feed, digest=batch[-1])
            assert batch[-1].membership.user.email == rendered["recipient"]

        # Queueing a batch: its INSERT, and on SQLite the new rows' ids (on
        # PostgreSQL the INSERT returns them). The history query above already
        # left out whoever has this period's row.
        messages = [digests.render_digest(feed=feed, digest=digest) for digest in batch[:20]]
        with CaptureQueriesContext(connection) as queue_queries:
            assert len(digests._rows(messages)()) == 20
        statements = [
            q["sql"] for q in queue_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]

    (feed_10, batch_10), (feed_1000, batch_1000) = sizes[10], sizes[1000]
    # The feed is loaded once per run: 7 queries at any size (load_feed).
    assert feed_10 == feed_1000 <= 7
    assert batch_10 == batch_1000 <= 4
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert statements[0].startswith("INSERT")


def test_a_batch_another_run_queued_first_is_queued_once(in_scope):
    # Two beat processes: the other one saved one of this batch's rows meanwhile.
    a = in_scope
    news(a.alliance, at=utc(2021, 4, 28))
    other = MembershipFactory(alliance=a.alliance, role=Role.CEO)
    period = digests.digest_period(alliance=a.alliance, cadence="monthly", now=NOW)
    feed = digests.load_feed(alliance=a.alliance, now=NOW, since_floor=period.previous_starts_at)
    members = digests.with_digest_history(
        alliance=a.alliance,
        period=period,
        memberships=list(digests.recipients(alliance=a.alliance, period=period)),
    )
    batch = digests.build_batch(feed=feed, period=period, memberships=members)
    messages = [digests.render_digest(feed=feed, digest=digest) for digest in batch]
    outbox.enqueue_rendered(**messages[0])
    assert len(digests._rows(messages)()) == 1
    rows = digest_rows()
    assert sorted(r.recipient for r in rows) == sorted([a.member.email, other.user.email])


def test_a_run_queues_everyone_in_batches(in_scope):
    a = in_scope
    news(a.alliance, at=utc(2021, 4, 28))
    for _ in range(4):
        MembershipFactory(alliance=a.alliance, role=Role.CEO)
    result = digests.send_alliance_digests(alliance=a.alliance, now=NOW, batch_size=2)
    assert (result.queued, result.batches) == (5, 3)
    assert len({row.recipient for row in digest_rows()}) == 5


def ceos_with_news(tenant, count: int) -> list[str]:
    """`count` CEOs besides the tenant's member, all due a digest: their emails."""
    with scope(alliance=tenant.alliance):
        news(tenant.alliance, at=utc(2021, 4, 28))
        ceos = [MembershipFactory(alliance=tenant.alliance, role=Role.CEO) for _ in range(count)]
    return sorted([tenant.member.email, *(m.user.email for m in ceos)])


def run_digests(tenant, **options) -> digests.RunResult:
    with scope(alliance=tenant.alliance):
        return digests.send_alliance_digests(alliance=tenant.alliance, now=NOW, **options)


@pytest.mark.django_db(transaction=True)
def test_a_worker_run_writes_its_digests_in_parts_on_a_second_connection(tenant_a, monkeypatch):
    """A worker's run (no caller's transaction): each part's digests are written
    by the writer thread, in a transaction of its own, while the next renders."""
    needs_postgresql("writes on a second connection need it")
    emails = ceos_with_news(tenant_a, 6)
    monkeypatch.setattr(digests, "PART_SIZE", 2)
    writers, enqueue_many = [], outbox.enqueue_many

    def noted(**arguments):
        writers.append((threading.current_thread().name, connection.in_atomic_block))
        return enqueue_many(**arguments)

    monkeypatch.setattr(outbox, "enqueue_many", noted)
    sent_for_delivery = []
    monkeypatch.setattr(outbox, "send_for_delivery", sent_for_delivery.extend)
    result = run_digests(tenant_a, batch_size=5)
    # Two batches (5 and 2 members), in parts of at most 2: 3 + 1 writes.
    assert (result.queued, result.batches, len(writers)) == (7, 2, 4)
    assert {name.split("_")[0] for name, _ in writers} == {"digest-writes"}
    assert all(in_transaction for _, in_transaction in writers)
    rows = digest_rows(tenant_a.alliance)
    assert sorted(row.recipient for row in rows) == emails
    # Each part was sent for delivery once committed, by the run's thread.
    assert sorted(sent_for_delivery) == [row.pk for row in rows]
    assert run_digests(tenant_a).queued == 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_digest_write_fails_the_run_and_the_next_run_queues_them(tenant_a, monkeypatch):
    needs_postgresql("writes on a second connection need it")
    emails = ceos_with_news(tenant_a, 2)

    def refused(**arguments):
        raise RuntimeError("database refused the write")

    monkeypatch.setattr(outbox, "enqueue_many", refused)
    with pytest.raises(RuntimeError, match="refused the write"):
        run_digests(tenant_a)
    assert digest_rows(tenant_a.alliance) == []
    monkeypatch.undo()
    assert run_digests(tenant_a).queued == 3
    with scope(alliance=tenant_a.alliance):
        queued = OutgoingEmail.objects.filter(alliance=tenant_a.alliance, kind="digest")
        assert sorted(queued.values_list("recipient", flat=True)) == emails


def test_a_digest_run_inside_a_callers_transaction_writes_in_it(tenant_a, monkeypatch):
    emails = ceos_with_news(tenant_a, 2)
    threads, enqueue_many = [], outbox.enqueue_many

    def noted(**arguments):
        threads.append(threading.current_thread())
        return enqueue_many(**arguments)

    monkeypatch.setattr(outbox, "enqueue_many", noted)
    with transaction.atomic():
        assert run_digests(tenant_a).queued == 3
        # Written in this transaction: there before it commits.
        assert sorted(row.recipient for row in digest_rows(tenant_a.alliance)) == emails
    assert threads and set(threads) == {threading.main_thread()}


# Tenancy
# ------------------------------------------------------------------------------


def test_a_digest_never_shows_another_alliances_rows(world, tenant_b):
    b = tenant_b
    with scope(alliance=b.alliance):
        # B has news, readings and events of its own in the same month.
        news(b.alliance, at=utc(2021, 4, 28), title="Report of bravo")
        MeetingFactory(
            alliance=b.alliance,
            program_year=b.program_year,
            title="Meeting of bravo",
            starts_at=utc(2021, 5, 12, 14),
            ends_at=utc(2021, 5, 12, 15),
        )
    _, message = build_one(world.membership)
    everything = message["subject"] + message["text_body"] + message["html_body"]
    assert "bravo" not in everything
    result = digests.send_alliance_digests(alliance=world.alliance, now=NOW)
    assert result.queued >= 1
    assert {row.alliance_id for row in digest_rows()} == {world.alliance.pk}


# The staff preview
# ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


def test_staff_preview_a_members_digest_without_queueing_it(staff_client, tenant_a):
    change = reverse("admin:members_membership_change", args=[tenant_a.membership.pk])
    preview = reverse("admin:members_membership_digest_preview", args=[tenant_a.membership.pk])
    assert preview in staff_client.get(change).content.decode()
    with scopes_disabled():
        before = OutgoingEmail.objects.count()

    response = staff_client.get(preview)
    page = response.content.decode()
    assert response.status_code == 200
    html_url = reverse(
        "admin:members_membership_digest_preview_html", args=[tenant_a.membership.pk]
    )
    assert f'<iframe src="{html_url}" sandbox=""' in page
    assert "Text part" in page and tenant_a.publication.title in page  # the text part
    assert "List-Unsubscribe" in page

    response = staff_client.get(html_url)
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert tenant_a.workgroup.name in response.content.decode()
    with scopes_disabled():
        assert OutgoingEmail.objects.count() == before


def test_staff_preview_of_a_member_who_gets_no_digests_says_so(staff_client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        Membership.objects.filter(pk=tenant_a.membership.pk).update(digest=DigestPreference.OFF)
    url = reverse("admin:members_membership_digest_preview", args=[tenant_a.membership.pk])
    page = staff_client.get(url).content.decode()
    assert "Not sent: the member gets no digests." in page


def test_staff_preview_shows_the_logo_inline(staff_client, tenant_a):
    tenant_a.alliance.logo.save("logo.png", SimpleUploadedFile("logo.png", _png(4, 4)))
    url = reverse("admin:members_membership_digest_preview_html", args=[tenant_a.membership.pk])
    body = staff_client.get(url).content.decode()
    assert 'src="data:image/png;base64,' in body and "cid:" not in body


def test_staff_preview_of_another_alliances_member_is_404(staff_client, tenant_b):
    for name in ("digest_preview", "digest_preview_html"):
        url = reverse(f"admin:members_membership_{name}", args=[tenant_b.membership.pk])
        response = staff_client.get(url)
        assert response.status_code == 404
        assert "bravo" not in response.content.decode()


def test_a_superuser_previews_any_alliances_member(client, tenant_a, tenant_b, totp_for):
    superuser = User.objects.create_superuser(email="root@example.org", full_name="Root")
    totp_for(superuser)
    client.force_login(superuser)
    url = reverse("admin:members_membership_digest_preview", args=[tenant_b.membership.pk])
    page = client.get(url).content.decode()
    assert tenant_b.organization.name in page and tenant_a.organization.name not in page
