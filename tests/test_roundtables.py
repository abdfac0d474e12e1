"""Roundtable webinars: seats and the waitlist, join-link timing, questions and
votes, private slides, the quarterly series, the schedule and calendars, admin."""

import datetime
import threading

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from alliance.models import OutgoingEmail
from members.models import Role
from roundtables import services
from roundtables.models import Question, QuestionVote, Roundtable, RoundtableRegistration
from sessions import calendars as meeting_calendars
from tests.factories import (
    MembershipFactory,
    ProgramYearFactory,
    QuestionFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
)
from tests.needs import needs_postgresql

pytestmark = pytest.mark.django_db

Status = RoundtableRegistration.Status


def url(name, tenant, roundtable=None, **extra):
    kwargs = {"alliance_slug": tenant.alliance.slug, **extra}
    if roundtable is not None:
        kwargs["roundtable_id"] = roundtable.pk
    return reverse(f"roundtables:{name}", kwargs=kwargs)


def members(tenant, count):
    return [
        MembershipFactory(alliance=tenant.alliance, organization=tenant.organization, role=Role.CEO)
        for _ in range(count)
    ]


def starting_in(tenant, delta, **kwargs):
    starts_at = timezone.now() + delta
    return RoundtableFactory(
        alliance=tenant.alliance,
        program_year=tenant.program_year,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=90),
        **kwargs,
    )


# Seats and the waitlist
# ------------------------------------------------------------------------------


class TestRegistration:
    def test_seats_then_waitlist_in_order(self, in_scope):
        tenant = in_scope
        roundtable = starting_in(tenant, datetime.timedelta(days=20), capacity=2)
        first, second, third, fourth = members(tenant, 4)
        statuses = [
            services.roundtable_register(roundtable=roundtable, membership=m).status
            for m in (first, second, third, fourth)
        ]
        assert statuses == [
            Status.REGISTERED,
            Status.REGISTERED,
            Status.WAITLISTED,
            Status.WAITLISTED,
        ]
        third_registration = RoundtableRegistration.objects.get(membership=third)
        fourth_registration = RoundtableRegistration.objects.get(membership=fourth)
        assert services.waitlist_position(third_registration) == 1
        assert services.waitlist_position(fourth_registration) == 2

        promoted = services.roundtable_registration_cancel(roundtable=roundtable, membership=first)
        assert [r.membership for r in promoted] == [third]
        third_registration.refresh_from_db()
        assert third_registration.status == Status.REGISTERED
        assert third_registration.promoted_at is not None
        # The promoted member hears of it through the outbox.
        mail = OutgoingEmail.objects.get(kind="roundtable_seat")
        assert mail.recipient == third.user.email
        assert roundtable.title in mail.subject

    def test_double_submit_keeps_one_registration(self, in_scope):
        roundtable = starting_in(in_scope, datetime.timedelta(days=20))
        (member,) = members(in_scope, 1)
        services.roundtable_register(roundtable=roundtable, membership=member)
        services.roundtable_register(roundtable=roundtable, membership=member)
        assert RoundtableRegistration.objects.filter(membership=member).count() == 1

    def test_coming_back_after_cancelling_joins_the_end_of_the_line(self, in_scope):
        roundtable = starting_in(in_scope, datetime.timedelta(days=20), capacity=1)
        first, second, third = members(in_scope, 3)
        for member in (first, second, third):
            services.roundtable_register(roundtable=roundtable, membership=member)
        services.roundtable_registration_cancel(roundtable=roundtable, membership=second)
        services.roundtable_register(roundtable=roundtable, membership=second)
        services.roundtable_registration_cancel(roundtable=roundtable, membership=first)
        seated = roundtable.registrations.get(status=Status.REGISTERED)
        assert seated.membership == third

    @pytest.mark.parametrize("status", [Roundtable.Status.CANCELLED, Roundtable.Status.POSTPONED])
    def test_closed_roundtable_refuses_registration(self, in_scope, status):
        roundtable = starting_in(in_scope, datetime.timedelta(days=20), status=status)
        (member,) = members(in_scope, 1)
        with pytest.raises(ValidationError, match="closed"):
            services.roundtable_register(roundtable=roundtable, membership=member)

    def test_past_roundtable_refuses_registration(self, in_scope):
        roundtable = starting_in(in_scope, -datetime.timedelta(days=2))
        (member,) = members(in_scope, 1)
        with pytest.raises(ValidationError):
            services.roundtable_register(roundtable=roundtable, membership=member)

    def test_more_seats_promote_the_waitlist(self, in_scope):
        roundtable = starting_in(in_scope, datetime.timedelta(days=20), capacity=1)
        first, second, third = members(in_scope, 3)
        for member in (first, second, third):
            services.roundtable_register(roundtable=roundtable, membership=member)
        services.roundtable_capacity_set(roundtable=roundtable, capacity=3)
        assert roundtable.registrations.filter(status=Status.REGISTERED).count() == 3

    def test_pages_register_and_cancel(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            roundtable = starting_in(tenant_a, datetime.timedelta(days=20), capacity=1)
            (other,) = members(tenant_a, 1)
        client.force_login(tenant_a.member)
        response = client.post(url("register", tenant_a, roundtable), follow=True)
        assert "You are registered" in response.content.decode()
        client.force_login(other.user)
        response = client.post(url("register", tenant_a, roundtable), follow=True)
        assert "waitlist, number 1" in response.content.decode()
        client.force_login(tenant_a.member)
        client.post(url("cancel", tenant_a, roundtable))
        with scope(alliance=tenant_a.alliance):
            assert (
                RoundtableRegistration.objects.get(roundtable=roundtable, membership=other).status
                == Status.REGISTERED
            )

    def test_get_on_post_only_urls_changes_nothing(self, client, tenant_a):
        client.force_login(tenant_a.member)
        for name in ("register", "cancel", "ask"):
            assert client.get(url(name, tenant_a, tenant_a.roundtable)).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_give_each_seat_to_one_member_in_order(tenant_a):
    """Three seated members cancel at once: the first three on the waitlist get
    the three seats, each once, whatever the interleaving.

    Needs row locks between real connections: PostgreSQL (CI runs the suite on
    it). SQLite's shared in-memory test database locks whole tables instead.
    """
    needs_postgresql("row-lock concurrency needs it")
    with scope(alliance=tenant_a.alliance):
        roundtable = starting_in(tenant_a, datetime.timedelta(days=20), capacity=3)
        seated, waiting = members(tenant_a, 3), members(tenant_a, 5)
        for member in seated + waiting:
            services.roundtable_register(roundtable=roundtable, membership=member)
    barrier = threading.Barrier(len(seated))
    errors = []

    def cancel(member):
        try:
            with scope(alliance=tenant_a.alliance):
                barrier.wait()
                services.roundtable_registration_cancel(roundtable=roundtable, membership=member)
        except Exception as error:  # reported below, with the thread's exception
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(m,)) for m in seated]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with scope(alliance=tenant_a.alliance):
        now_seated = set(
            RoundtableRegistration.objects.filter(
                roundtable=roundtable, status=Status.REGISTERED
            ).values_list("membership_id", flat=True)
        )
        assert now_seated == {m.pk for m in waiting[:3]}
        still_waiting = RoundtableRegistration.objects.filter(
            roundtable=roundtable, status=Status.WAITLISTED
        ).values_list("membership_id", flat=True)
        assert set(still_waiting) == {m.pk for m in waiting[3:]}
        # One "you have a seat" email per promoted member, never two.
        recipients = list(
            OutgoingEmail.objects.filter(kind="roundtable_seat").values_list("recipient", flat=True)
        )
        assert sorted(recipients) == sorted(m.user.email for m in waiting[:3])


# The join link
# ------------------------------------------------------------------------------


class TestJoinLink:
    def test_hidden_before_the_lead_time_shown_within_it(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            later = starting_in(tenant_a, datetime.timedelta(days=3))
            soon = starting_in(tenant_a, datetime.timedelta(hours=20))
            for roundtable in (later, soon):
                RoundtableRegistrationFactory(
                    alliance=tenant_a.alliance,
                    roundtable=roundtable,
                    membership=tenant_a.membership,
                )
        client.force_login(tenant_a.member)
        page = client.get(url("detail", tenant_a, later)).content.decode()
        assert later.join_url not in page and later.passcode not in page
        assert "appear here from" in page
        page = client.get(url("detail", tenant_a, soon)).content.decode()
        assert soon.join_url in page and soon.passcode in page

    def test_lead_time_is_the_alliances(self, client, tenant_a):
        tenant_a.alliance.join_link_lead_hours = 2
        tenant_a.alliance.save()
        with scope(alliance=tenant_a.alliance):
            roundtable = starting_in(tenant_a, datetime.timedelta(hours=5))
            RoundtableRegistrationFactory(
                alliance=tenant_a.alliance, roundtable=roundtable, membership=tenant_a.membership
            )
        client.force_login(tenant_a.member)
        assert (
            roundtable.join_url
            not in client.get(url("detail", tenant_a, roundtable)).content.decode()
        )
        tenant_a.alliance.join_link_lead_hours = 6
        tenant_a.alliance.save()
        assert (
            roundtable.join_url in client.get(url("detail", tenant_a, roundtable)).content.decode()
        )

    def test_never_for_the_waitlisted_or_unregistered(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            roundtable = starting_in(tenant_a, datetime.timedelta(hours=2))
            waiting, bystander = members(tenant_a, 2)
            RoundtableRegistrationFactory(
                alliance=tenant_a.alliance,
                roundtable=roundtable,
                membership=waiting,
                status=Status.WAITLISTED,
            )
        for member in (waiting, bystander):
            client.force_login(member.user)
            page = client.get(url("detail", tenant_a, roundtable)).content.decode()
            assert roundtable.join_url not in page and roundtable.passcode not in page
            ics = client.get(url("ics", tenant_a, roundtable)).content.decode()
            assert roundtable.join_url not in ics.replace("\r\n ", "")

    def test_open_webinar_shows_every_member(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            roundtable = starting_in(
                tenant_a, datetime.timedelta(hours=2), registration_required=False
            )
            (bystander,) = members(tenant_a, 1)
        client.force_login(bystander.user)
        assert (
            roundtable.join_url in client.get(url("detail", tenant_a, roundtable)).content.decode()
        )

    def test_cancelled_roundtable_shows_no_link(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            roundtable = starting_in(tenant_a, datetime.timedelta(hours=2))
            RoundtableRegistrationFactory(
                alliance=tenant_a.alliance, roundtable=roundtable, membership=tenant_a.membership
            )
            services.roundtable_cancel(roundtable=roundtable)
        client.force_login(tenant_a.member)
        assert (
            roundtable.join_url
            not in client.get(url("detail", tenant_a, roundtable)).content.decode()
        )

    def test_feed_carries_the_link_only_within_the_lead_time(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            later = starting_in(tenant_a, datetime.timedelta(days=3))
            soon = starting_in(tenant_a, datetime.timedelta(hours=3))
            for roundtable in (later, soon):
                RoundtableRegistrationFactory(
                    alliance=tenant_a.alliance,
                    roundtable=roundtable,
                    membership=tenant_a.membership,
                )
            feed = meeting_calendars.feed_url(tenant_a.membership)
        calendar = icalendar.Calendar.from_ical(client.get(feed).content)
        events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
        later_event = events[f"{later.uid}@alliance-portal"]
        soon_event = events[f"{soon.uid}@alliance-portal"]
        assert later.join_url not in str(later_event["DESCRIPTION"])
        assert "join link on the roundtable page from" in str(later_event["DESCRIPTION"])
        assert soon.join_url in str(soon_event["DESCRIPTION"])
        assert soon.passcode in str(soon_event["DESCRIPTION"])


# Advance questions
# ------------------------------------------------------------------------------


class TestQuestions:
    def test_only_registrants_ask(self, in_scope):
        (bystander,) = members(in_scope, 1)
        with pytest.raises(ValidationError, match="Register"):
            services.question_ask(
                roundtable=in_scope.roundtable, membership=bystander, text="What now?"
            )

    def test_double_submit_keeps_one_question(self, in_scope):
        for _ in range(2):
            services.question_ask(
                roundtable=in_scope.roundtable, membership=in_scope.membership, text=" Same? "
            )
        assert Question.objects.filter(text="Same?").count() == 1

    def test_one_vote_per_member_never_ones_own(self, in_scope):
        voter, other_voter = members(in_scope, 2)
        question = in_scope.question  # asked by in_scope.membership
        services.question_vote(question=question, membership=voter)
        services.question_vote(question=question, membership=voter)
        services.question_vote(question=question, membership=other_voter)
        assert QuestionVote.objects.filter(question=question).count() == 3  # + the staff vote
        with pytest.raises(ValidationError, match="own"):
            services.question_vote(question=question, membership=in_scope.membership)

    def test_voting_closes_at_the_start(self, in_scope):
        roundtable = starting_in(in_scope, -datetime.timedelta(minutes=5))
        question = QuestionFactory(alliance=in_scope.alliance, roundtable=roundtable)
        (voter,) = members(in_scope, 1)
        with pytest.raises(ValidationError, match="closes"):
            services.question_vote(question=question, membership=voter)

    def test_page_orders_by_votes_and_hides_hidden(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            popular = QuestionFactory(
                alliance=tenant_a.alliance, roundtable=tenant_a.roundtable, text="Popular one?"
            )
            for voter in members(tenant_a, 2):
                services.question_vote(question=popular, membership=voter)
            QuestionFactory(
                alliance=tenant_a.alliance,
                roundtable=tenant_a.roundtable,
                text="Hidden one?",
                is_hidden=True,
            )
        client.force_login(tenant_a.member)
        page = client.get(url("detail", tenant_a, tenant_a.roundtable)).content.decode()
        assert page.index("Popular one?") < page.index(tenant_a.question.text)
        assert "Hidden one?" not in page

    def test_ask_and_vote_through_the_page(self, client, tenant_a):
        client.force_login(tenant_a.member)
        response = client.post(
            url("ask", tenant_a, tenant_a.roundtable), {"text": "How do we start?"}, follow=True
        )
        assert "Your question is in" in response.content.decode()
        with scope(alliance=tenant_a.alliance):
            (voter,) = members(tenant_a, 1)
            question = Question.objects.get(text="How do we start?")
        client.force_login(voter.user)
        vote = url("vote", tenant_a, tenant_a.roundtable, question_id=question.pk)
        client.post(vote)
        client.post(vote)
        with scope(alliance=tenant_a.alliance):
            assert question.votes.count() == 1

    def test_a_refused_question_keeps_its_words(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            (bystander,) = members(tenant_a, 1)
        client.force_login(bystander.user)
        response = client.post(
            url("ask", tenant_a, tenant_a.roundtable), {"text": "My careful question"}
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "My careful question" in page and "Register for the roundtable" in page

    def test_vote_for_a_question_of_another_roundtable_is_404(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            other = starting_in(tenant_a, datetime.timedelta(days=5))
            (voter,) = members(tenant_a, 1)
        client.force_login(voter.user)
        vote = url("vote", tenant_a, other, question_id=tenant_a.question.pk)
        assert client.post(vote).status_code == 404


# After the event: recording, slides, summary
# ------------------------------------------------------------------------------


class TestAfterTheEvent:
    def test_recording_slides_and_summary_for_members(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            roundtable = tenant_a.roundtable
            roundtable.recording_url = "https://video.example.org/watch/abc"
            roundtable.summary = "We discussed workforce safety."
            roundtable.save()
        client.force_login(tenant_a.member)
        page = client.get(url("detail", tenant_a, roundtable)).content.decode()
        assert "https://video.example.org/watch/abc" in page
        assert "We discussed workforce safety." in page
        response = client.get(url("slides", tenant_a, roundtable))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content).startswith(b"%PDF")

    def test_slides_are_not_served_to_other_alliances_or_anonymous(
        self, client, tenant_a, tenant_b
    ):
        slides = url("slides", tenant_a, tenant_a.roundtable)
        response = client.get(slides)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        client.force_login(tenant_b.member)
        assert client.get(slides).status_code == 404
        # B's id under A's slug: still not found.
        assert client.get(url("slides", tenant_a, tenant_b.roundtable)).status_code == 404

    def test_the_stored_path_is_not_a_url(self, client, tenant_a):
        name = tenant_a.roundtable.slides.name
        assert name.startswith(f"private/{tenant_a.alliance.pk}/")
        client.force_login(tenant_a.member)
        for guess in (f"/media/{name}", f"/media-not-served/{name}", f"/{name}"):
            assert client.get(guess).status_code == 404

    def test_missing_file_is_a_clear_404(self, client, tenant_a):
        tenant_a.roundtable.slides.storage.delete(tenant_a.roundtable.slides.name)
        client.force_login(tenant_a.member)
        assert client.get(url("slides", tenant_a, tenant_a.roundtable)).status_code == 404


# The quarterly series
# ------------------------------------------------------------------------------


class TestQuarterly:
    def test_one_per_quarter_on_the_third_thursday(self, in_scope):
        year = ProgramYearFactory(
            alliance=in_scope.alliance,
            starts_on=datetime.date(2020, 10, 1),
            ends_on=datetime.date(2021, 9, 30),
        )
        created = services.roundtables_create_quarterly(
            program_year=year, facilitators=[in_scope.speaker]
        )
        days = [r.starts_at.astimezone(datetime.UTC).date() for r in created]
        assert days == [
            datetime.date(2020, 11, 19),
            datetime.date(2021, 2, 18),
            datetime.date(2021, 5, 20),
            datetime.date(2021, 8, 19),
        ]
        assert all(list(r.facilitators.all()) == [in_scope.speaker] for r in created)
        assert created[0].title.endswith("quarter 1")
        with pytest.raises(ValidationError, match="already has"):
            services.roundtables_create_quarterly(program_year=year)
        assert Roundtable.objects.filter(program_year=year).count() == 4

    def test_a_24_month_year_has_eight(self, in_scope):
        year = ProgramYearFactory(
            alliance=in_scope.alliance,
            starts_on=datetime.date(2007, 4, 1),
            ends_on=datetime.date(2009, 3, 31),
        )
        assert len(services.quarter_dates(year)) == 8


# Schedule, calendars, changes
# ------------------------------------------------------------------------------


class TestScheduleAndCalendars:
    def test_schedule_lists_roundtables_beside_meetings(self, client, tenant_a):
        client.force_login(tenant_a.member)
        schedule = reverse("meetings:schedule", args=[tenant_a.alliance.slug])
        page = client.get(schedule).content.decode()
        assert tenant_a.roundtable.title in page and tenant_a.meeting.title in page
        page = client.get(schedule, {"kind": "roundtable"}).content.decode()
        assert tenant_a.roundtable.title in page and tenant_a.meeting.title not in page
        page = client.get(schedule, {"format": "in_person"}).content.decode()
        assert tenant_a.roundtable.title not in page

    def test_alliance_home_shows_the_next_roundtable(self, client, tenant_a):
        client.force_login(tenant_a.member)
        page = client.get(reverse("alliance_home", args=[tenant_a.alliance.slug])).content
        assert url("detail", tenant_a, tenant_a.roundtable).encode() in page

    def test_ics_and_add_links(self, client, tenant_a):
        client.force_login(tenant_a.member)
        response = client.get(url("ics", tenant_a, tenant_a.roundtable))
        assert response["Content-Type"].startswith("text/calendar")
        (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        assert str(event["UID"]) == f"{tenant_a.roundtable.uid}@alliance-portal"
        assert tenant_a.speaker.name in str(event["DESCRIPTION"])
        page = client.get(url("detail", tenant_a, tenant_a.roundtable)).content.decode()
        assert "calendar.google.com" in page and "outlook.live.com" in page

    def test_postpone_and_cancel_raise_the_sequence(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            roundtable = tenant_a.roundtable
            original = roundtable.starts_at
            services.roundtable_postpone(roundtable=roundtable)
            roundtable.refresh_from_db()
            assert roundtable.status == Roundtable.Status.POSTPONED
            assert roundtable.original_starts_at == original
            assert roundtable.sequence == 1
            services.roundtable_postpone(
                roundtable=roundtable,
                starts_at=original + datetime.timedelta(days=7),
                ends_at=original + datetime.timedelta(days=7, hours=1),
            )
            services.roundtable_cancel(roundtable=roundtable)
            roundtable.refresh_from_db()
        assert roundtable.sequence == 3
        client.force_login(tenant_a.member)
        (event,) = icalendar.Calendar.from_ical(
            client.get(url("ics", tenant_a, roundtable)).content
        ).walk("VEVENT")
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 3

    def test_roundtables_page_splits_coming_and_past(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            past = starting_in(
                tenant_a,
                -datetime.timedelta(days=30),
                title="Spring webinar",
                recording_url="https://video.example.org/past",
            )
        client.force_login(tenant_a.member)
        page = client.get(url("list", tenant_a)).content.decode()
        assert page.index(tenant_a.roundtable.title) < page.index("Past roundtables")
        assert page.index("Past roundtables") < page.index(past.title)


# Staff in the admin
# ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    return client


class TestAdmin:
    def test_deletion_refused_with_registrations(self, staff_client, tenant_a):
        delete = reverse("admin:roundtables_roundtable_delete", args=[tenant_a.roundtable.pk])
        response = staff_client.post(delete, {"post": "yes"}, follow=True)
        assert "has registrations" in response.content.decode()
        with scope(alliance=tenant_a.alliance):
            assert Roundtable.objects.filter(pk=tenant_a.roundtable.pk).exists()

    def test_quarterly_action(self, staff_client, tenant_a):
        changelist = reverse("admin:alliance_programyear_changelist")
        chosen = {
            "action": "create_quarterly_roundtables",
            "_selected_action": [tenant_a.program_year.pk],
        }
        form = staff_client.post(changelist, chosen)
        assert form.status_code == 200 and "third Thursday" in form.content.decode()
        response = staff_client.post(
            changelist,
            {
                **chosen,
                "create": "1",
                "title": "Leadership Virtual Roundtable",
                "local_time": "12:00",
                "duration_minutes": "60",
                "facilitators": [tenant_a.speaker.pk],
            },
        )
        assert response.status_code == 302
        with scope(alliance=tenant_a.alliance):
            created = Roundtable.objects.filter(title__contains="quarter")
            assert created.count() == 4
            assert all(r.facilitators.get() == tenant_a.speaker for r in created)

    def test_quarterly_action_refuses_another_alliances_speaker(
        self, staff_client, tenant_a, tenant_b
    ):
        changelist = reverse("admin:alliance_programyear_changelist")
        response = staff_client.post(
            changelist,
            {
                "action": "create_quarterly_roundtables",
                "_selected_action": [tenant_a.program_year.pk],
                "create": "1",
                "title": "Roundtable",
                "local_time": "12:00",
                "duration_minutes": "60",
                "facilitators": [tenant_b.speaker.pk],
            },
        )
        assert response.status_code == 200  # the form again, with its error
        with scope(alliance=tenant_a.alliance):
            assert not Roundtable.objects.filter(title__contains="quarter").exists()

    def test_change_page_lists_questions_by_votes(self, staff_client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            popular = QuestionFactory(
                alliance=tenant_a.alliance, roundtable=tenant_a.roundtable, text="Most wanted?"
            )
            for voter in members(tenant_a, 3):
                services.question_vote(question=popular, membership=voter)
        change = reverse("admin:roundtables_roundtable_change", args=[tenant_a.roundtable.pk])
        page = staff_client.get(change).content.decode()
        assert page.index("Most wanted?") < page.index(tenant_a.question.text)
