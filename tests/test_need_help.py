"""Need help?: the member's message reaches the staff through the outbox, with limits."""

import logging

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scope

from alliance import services
from alliance.models import OutgoingEmail
from alliance.notifications.delivery import deliver
from members.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def help_url(tenant) -> str:
    return reverse("need_help", args=[tenant.alliance.slug])


def outbox_rows(tenant) -> list[OutgoingEmail]:
    """The rows this test queued (the fixture's own row is left out)."""
    with scope(alliance=tenant.alliance):
        return list(
            OutgoingEmail.objects.filter(kind__startswith="need_help")
            .exclude(pk=tenant.outgoing_email.pk)
            .order_by("kind", "recipient")
        )


@pytest.fixture
def member_client(client, tenant_a):
    client.force_login(tenant_a.member)
    return client


def ask(client, tenant, subject="Reporting question", message="Where do we enter DART days?"):
    return client.post(help_url(tenant), {"subject": subject, "message": message})


def test_the_page_shows_the_contact_and_the_form(member_client, tenant_a):
    page = member_client.get(help_url(tenant_a)).content.decode()
    assert tenant_a.alliance.contact_email in page
    assert 'name="subject"' in page and 'name="message"' in page
    assert outbox_rows(tenant_a) == []  # a GET sends nothing


def test_the_message_goes_to_the_contact_and_staff_with_a_copy_to_the_sender(
    member_client, tenant_a, tenant_b
):
    other_staff = MembershipFactory(
        alliance=tenant_a.alliance, role=Role.ALLIANCE_STAFF, user__email="second@alpha.example"
    )
    response = ask(member_client, tenant_a, message="Where do we enter <b>DART</b> days?")
    assert response.status_code == 302
    assert response["Location"] == help_url(tenant_a)
    rows = outbox_rows(tenant_a)
    to_staff = [r for r in rows if r.kind == "need_help"]
    [copy] = [r for r in rows if r.kind == "need_help_copy"]
    assert {r.recipient for r in to_staff} == {
        tenant_a.alliance.contact_email,
        tenant_a.staff.email,
        other_staff.user.email,
    }
    sender = tenant_a.member
    for row in to_staff:
        assert row.reply_to == f"{sender.full_name} <{sender.email}>"
        assert row.alliance_id == tenant_a.alliance.pk
        assert row.object_ref == f"members.membership:{tenant_a.membership.pk}"
        assert "Reporting question" in row.subject
        assert "Where do we enter <b>DART</b> days?" in row.text_body
        # The HTML part shows the member's text as text.
        assert "&lt;b&gt;DART&lt;/b&gt;" in row.html_body and "<b>DART" not in row.html_body
        assert "<script" not in row.html_body
    assert copy.recipient == sender.email
    assert tenant_a.alliance.contact_email in copy.reply_to
    assert "Where do we enter" in copy.text_body
    # One message, one key: its rows belong together and a second message is distinct.
    assert len({r.key for r in rows}) == 1
    assert outbox_rows(tenant_b) == []


def test_the_success_message_after_the_redirect(member_client, tenant_a):
    response = member_client.post(
        help_url(tenant_a), {"subject": "Hello", "message": "Hi"}, follow=True
    )
    assert "Your message is on its way" in response.content.decode()


def test_two_messages_are_two_sets_of_rows(member_client, tenant_a):
    ask(member_client, tenant_a)
    ask(member_client, tenant_a)
    rows = outbox_rows(tenant_a)
    assert len({r.key for r in rows}) == 2
    assert len([r for r in rows if r.kind == "need_help_copy"]) == 2


def test_staff_asking_do_not_mail_themselves_twice(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    assert ask(client, tenant_a).status_code == 302
    rows = outbox_rows(tenant_a)
    assert [r.recipient for r in rows if r.kind == "need_help"] == [tenant_a.alliance.contact_email]
    assert [r.recipient for r in rows if r.kind == "need_help_copy"] == [tenant_a.staff.email]


class TestRateLimit:
    def test_the_sixth_message_in_an_hour_is_refused_and_kept(self, member_client, tenant_a):
        for _ in range(services.NEED_HELP_PER_MEMBER_PER_HOUR):
            assert ask(member_client, tenant_a).status_code == 302
        sent = len(outbox_rows(tenant_a))
        response = ask(member_client, tenant_a, message="Please keep this text intact.")
        assert response.status_code == 429
        page = response.content.decode()
        assert "Too many messages were sent in the last hour" in page
        assert "Please keep this text intact." in page
        assert 'value="Reporting question"' in page
        assert len(outbox_rows(tenant_a)) == sent

    def test_the_alliance_has_a_limit_of_its_own(self, client, tenant_a, monkeypatch):
        monkeypatch.setattr(services, "NEED_HELP_PER_ALLIANCE_PER_HOUR", 3)
        members = [
            MembershipFactory(alliance=tenant_a.alliance, organization=tenant_a.organization)
            for _ in range(4)
        ]
        statuses = []
        for membership in members:
            client.force_login(membership.user)
            statuses.append(ask(client, tenant_a).status_code)
        assert statuses == [302, 302, 302, 429]

    def test_other_members_are_not_limited_by_one_member(self, client, tenant_a):
        client.force_login(tenant_a.member)
        for _ in range(services.NEED_HELP_PER_MEMBER_PER_HOUR + 1):
            ask(client, tenant_a)
        colleague = MembershipFactory(
            alliance=tenant_a.alliance, organization=tenant_a.organization
        )
        client.force_login(colleague.user)
        assert ask(client, tenant_a).status_code == 302

    def test_a_cache_outage_sends_anyway_and_logs_a_warning(
        self, member_client, tenant_a, monkeypatch, caplog
    ):
        class BrokenCache:
            def add(self, *args, **kwargs):
                raise ConnectionError("Redis is down")

            incr = add

        monkeypatch.setattr(services, "cache", BrokenCache())
        with caplog.at_level(logging.WARNING, logger="alliance.services"):
            for _ in range(services.NEED_HELP_PER_MEMBER_PER_HOUR + 2):
                assert ask(member_client, tenant_a).status_code == 302
        assert len([r for r in outbox_rows(tenant_a) if r.kind == "need_help_copy"]) == 7
        assert "rate limit not checked" in caplog.text


class TestBadInput:
    @pytest.mark.parametrize(
        "subject, message, field, expected",
        [
            ("", "Hello", "subject", "Give your message a subject."),
            ("Hello", "", "message", "Write your question or message."),
            ("Hello", " \n ", "message", "Write your question or message."),
            ("Hello", "x" * 5001, "message", "Keep the message to 5000 characters (it has 5001)"),
            ("x" * 201, "Hello", "subject", "Keep the subject to 200 characters"),
            ("Hello", "a\x00b", "message", "Null characters are not allowed."),
            ("a\x00b", "Hello", "subject", "Null characters are not allowed."),
        ],
    )
    def test_a_clear_message_per_field_and_nothing_sent(
        self, member_client, tenant_a, subject, message, field, expected
    ):
        response = ask(member_client, tenant_a, subject=subject, message=message)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == [field]
        assert expected in errors[field][0]
        assert outbox_rows(tenant_a) == []

    def test_a_long_message_is_kept_in_the_form(self, member_client, tenant_a):
        text = "Our numbers look wrong. " * 250  # > 5,000 characters
        response = ask(member_client, tenant_a, message=text)
        assert text.strip() in response.content.decode()


class TestHeaderInjection:
    def test_a_line_break_in_the_subject_never_becomes_a_header(self, member_client, tenant_a):
        response = ask(
            member_client, tenant_a, subject="Help\r\nBcc: victim@example.org\nX-Evil: 1"
        )
        assert response.status_code == 302
        rows = outbox_rows(tenant_a)
        assert rows
        for row in rows:
            assert "\r" not in row.subject and "\n" not in row.subject
            assert "Help Bcc: victim@example.org X-Evil: 1" in row.subject
            deliver(row.pk)
        assert len(mail.outbox) == len(rows)
        for message in mail.outbox:
            raw = message.message()
            assert raw["Bcc"] is None and raw["X-Evil"] is None
            assert "victim@example.org" not in message.recipients()

    def test_a_line_break_in_the_senders_name_stays_in_one_header(self, client, tenant_a):
        tenant_a.member.full_name = "Mallory\r\nBcc: victim@example.org"
        tenant_a.member.save()
        client.force_login(tenant_a.member)
        assert ask(client, tenant_a).status_code == 302
        for row in outbox_rows(tenant_a):
            assert "\r" not in row.reply_to and "\n" not in row.reply_to
            assert "\r" not in row.subject and "\n" not in row.subject
            deliver(row.pk)
        for message in mail.outbox:
            raw = message.message()
            assert raw["Bcc"] is None
            assert "victim@example.org" not in message.recipients()
        staff_mail = next(m for m in mail.outbox if m.to == [tenant_a.staff.email])
        assert staff_mail.reply_to == [
            f'"Mallory Bcc: victim@example.org" <{tenant_a.member.email}>'
        ]
