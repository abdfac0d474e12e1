"""Meetings: RSVP rules, changes as states, the schedule and the meeting page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from members.models import Role
from sessions import services
from sessions.models import Audience, Meeting, MeetingChange, Registration
from tests.factories import MeetingFactory, MembershipFactory, RegistrationFactory
from tests.guardrails.budgets import MEMBER_PAGE_BUDGET, query_count

pytestmark = pytest.mark.django_db


def respond(tenant, membership, response="in_person", **meeting_fields):
    meeting = MeetingFactory(
        alliance=tenant.alliance, program_year=tenant.program_year, **meeting_fields
    )
    with scope(alliance=tenant.alliance):
        return services.registration_respond(
            meeting=meeting, membership=membership, response=response
        )


class TestRSVPRules:
    def test_audience(self, tenant_a):
        trustee = MembershipFactory(
            alliance=tenant_a.alliance, role=Role.TRUSTEE, organization=tenant_a.organization
        )
        assert respond(tenant_a, tenant_a.membership, audience=Audience.CEOS).is_attending
        # A trustee may come to a CEOs-only meeting as their organization's delegate…
        assert respond(tenant_a, trustee, audience=Audience.CEOS).is_attending
        # …but not when substitutes are not allowed.
        with pytest.raises(ValidationError, match="no substitutes: a delegate cannot attend"):
            respond(tenant_a, trustee, audience=Audience.CEOS, substitutes_allowed=False)
        quality = MembershipFactory(
            alliance=tenant_a.alliance, role=Role.QUALITY_LEAD, organization=tenant_a.organization
        )
        assert respond(
            tenant_a, quality, audience=Audience.CEOS_AND_QUALITY, substitutes_allowed=False
        ).is_attending

    def test_declining_is_always_allowed(self, tenant_a):
        trustee = MembershipFactory(
            alliance=tenant_a.alliance, role=Role.TRUSTEE, organization=tenant_a.organization
        )
        registration = respond(
            tenant_a, trustee, "not_attending", audience=Audience.CEOS, substitutes_allowed=False
        )
        assert not registration.is_attending

    def test_format(self, tenant_a):
        with pytest.raises(ValidationError, match="virtual"):
            respond(tenant_a, tenant_a.membership, "in_person", format=Meeting.Format.VIRTUAL)
        with pytest.raises(ValidationError, match="in person only"):
            respond(tenant_a, tenant_a.membership, "virtual", format=Meeting.Format.IN_PERSON)

    def test_capacity(self, tenant_a):
        meeting = MeetingFactory(
            alliance=tenant_a.alliance, program_year=tenant_a.program_year, capacity=1
        )
        other = MembershipFactory(alliance=tenant_a.alliance)
        with scope(alliance=tenant_a.alliance):
            services.registration_respond(
                meeting=meeting, membership=tenant_a.membership, response="virtual"
            )
            with pytest.raises(ValidationError, match="full"):
                services.registration_respond(meeting=meeting, membership=other, response="virtual")
            # Changing one's own answer does not count twice.
            services.registration_respond(
                meeting=meeting, membership=tenant_a.membership, response="in_person"
            )
            services.registration_respond(
                meeting=meeting, membership=tenant_a.membership, response="not_attending"
            )
            assert services.registration_respond(
                meeting=meeting, membership=other, response="virtual"
            ).is_attending

    def test_closed_for_past_cancelled_or_postponed_meetings(self, tenant_a):
        past = datetime.datetime(2021, 1, 5, 15, tzinfo=datetime.UTC)
        with pytest.raises(ValidationError, match="not open"):
            respond(
                tenant_a,
                tenant_a.membership,
                starts_at=past,
                ends_at=past + datetime.timedelta(hours=1),
            )
        with pytest.raises(ValidationError, match="not open"):
            respond(tenant_a, tenant_a.membership, status=Meeting.Status.CANCELLED)

    def test_rsvp_page(self, client, tenant_a):
        client.force_login(tenant_a.member)
        url = reverse("meetings:rsvp", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
        assert client.post(url, {"response": "virtual"}).status_code == 302
        with scope(alliance=tenant_a.alliance):
            assert Registration.objects.get(pk=tenant_a.registration.pk).response == "virtual"
        response = client.post(url, {"response": "sideways"})
        assert response.status_code == 400 and b"Select a valid choice" in response.content


class TestChanges:
    def test_postpone_until_further_notice_keeps_the_original_date(self, tenant_a):
        meeting = tenant_a.meeting
        original = meeting.starts_at
        with scope(alliance=tenant_a.alliance):
            meeting = services.meeting_postpone(meeting=meeting, by=tenant_a.staff, note="COVID-19")
            [change] = meeting.changes.all()
        assert meeting.status == Meeting.Status.POSTPONED and meeting.starts_at is None
        assert meeting.original_starts_at == original and meeting.sequence == 1
        assert (change.kind, change.changed_by, change.old_starts_at) == (
            MeetingChange.Kind.POSTPONED,
            tenant_a.staff,
            original,
        )

    def test_postpone_to_a_new_date_then_move_virtual_then_cancel(self, tenant_a):
        new_start = tenant_a.meeting.starts_at + datetime.timedelta(days=14)
        with scope(alliance=tenant_a.alliance):
            meeting = services.meeting_postpone(
                meeting=tenant_a.meeting,
                by=tenant_a.staff,
                starts_at=new_start,
                ends_at=new_start + datetime.timedelta(hours=2),
            )
            assert meeting.status == Meeting.Status.SCHEDULED
            meeting = services.meeting_move_virtual(
                meeting=meeting, by=tenant_a.staff, join_url="https://meet.example.org/new"
            )
            assert meeting.format == Meeting.Format.VIRTUAL
            # The in-person registrant now attends virtually.
            assert Registration.objects.get(pk=tenant_a.registration.pk).response == "virtual"
            meeting = services.meeting_cancel(meeting=meeting, by=tenant_a.staff)
            assert meeting.status == Meeting.Status.CANCELLED and meeting.sequence == 3
            assert meeting.changes.count() == 3
            assert Meeting.objects.filter(pk=meeting.pk).exists()  # never deleted

    def test_a_meeting_with_registrations_cannot_be_deleted(self, tenant_a):
        with scope(alliance=tenant_a.alliance), pytest.raises(ValidationError, match="cancel"):
            services.meeting_check_deletable(meeting=tenant_a.meeting)


class TestPages:
    def test_schedule_by_month_with_times_in_both_zones(self, client, tenant_a):
        tenant_a.member.time_zone = "Europe/London"
        tenant_a.member.save()
        client.force_login(tenant_a.member)
        page = client.get(
            reverse("meetings:schedule", args=[tenant_a.alliance.slug])
        ).content.decode()
        assert tenant_a.meeting.title in page
        assert "Your time:" in page and ("GMT" in page or "BST" in page)
        assert "Attending in person" in page

    def test_schedule_filters(self, client, tenant_a):
        MeetingFactory(
            alliance=tenant_a.alliance,
            program_year=tenant_a.program_year,
            title="A workgroup call",
            kind=Meeting.Kind.WORKGROUP_CALL,
        )
        client.force_login(tenant_a.member)
        url = reverse("meetings:schedule", args=[tenant_a.alliance.slug])
        page = client.get(url, {"kind": "workgroup_call"}).content.decode()
        assert "A workgroup call" in page and tenant_a.meeting.title not in page
        page = client.get(url, {"mine": "on"}).content.decode()
        assert tenant_a.meeting.title in page and "A workgroup call" not in page

    def test_join_link_only_for_registrants(self, client, tenant_a):
        url = reverse("meetings:detail", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
        client.force_login(tenant_a.member)
        assert tenant_a.meeting.join_url in client.get(url).content.decode()
        client.force_login(MembershipFactory(alliance=tenant_a.alliance).user)
        page = client.get(url).content.decode()
        assert tenant_a.meeting.join_url not in page and "Send my answer" in page
        # Declining hides it again.
        with scope(alliance=tenant_a.alliance):
            Registration.objects.filter(pk=tenant_a.registration.pk).update(
                response="not_attending"
            )
        client.force_login(tenant_a.member)
        assert tenant_a.meeting.join_url not in client.get(url).content.decode()

    def test_meeting_page_shows_host_agenda_and_change_notice(self, client, tenant_a):
        with scope(alliance=tenant_a.alliance):
            services.meeting_postpone(meeting=tenant_a.meeting, by=tenant_a.staff)
        client.force_login(tenant_a.member)
        page = client.get(
            reverse("meetings:detail", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
        ).content.decode()
        assert "Postponed until further notice" in page
        assert tenant_a.organization.name in page and tenant_a.agenda_item.title in page


def test_schedule_queries_do_not_grow_with_1000_meetings(client, tenant_a):
    client.force_login(tenant_a.member)
    url = reverse("meetings:schedule", args=[tenant_a.alliance.slug])
    _, small = query_count(client, url)
    start = tenant_a.meeting.starts_at
    with scope(alliance=tenant_a.alliance):
        Meeting.objects.bulk_create(
            Meeting(
                alliance=tenant_a.alliance,
                program_year=tenant_a.program_year,
                title=f"Call {n}",
                starts_at=start + datetime.timedelta(hours=n),
                ends_at=start + datetime.timedelta(hours=n, minutes=30),
                host_organization=tenant_a.organization,
            )
            for n in range(1, 1000)
        )
    RegistrationFactory(
        alliance=tenant_a.alliance,
        membership=tenant_a.membership,
        meeting=MeetingFactory(alliance=tenant_a.alliance, program_year=tenant_a.program_year),
    )
    status, large = query_count(client, url)
    assert status == 200 and small == large <= MEMBER_PAGE_BUDGET


def test_agenda_and_dinner_show_in_the_meetings_own_zone(client, tenant_a):
    # 13:00 UTC on a July day is 9:00 AM in New York (EDT).
    start = datetime.datetime(2031, 7, 16, 13, tzinfo=datetime.UTC)
    meeting = MeetingFactory(
        alliance=tenant_a.alliance,
        program_year=tenant_a.program_year,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=7),
        time_zone="America/New_York",
        dinner_at=start + datetime.timedelta(hours=9),
    )
    with scope(alliance=tenant_a.alliance):
        services.standard_agenda_apply(meeting=meeting)
    client.force_login(tenant_a.member)
    page = client.get(
        reverse("meetings:detail", args=[tenant_a.alliance.slug, meeting.pk])
    ).content.decode()
    assert "9:00 AM" in page and "1:00 PM · 60 min" not in page
    assert "6:00 PM" in page  # dinner at 22:00 UTC
