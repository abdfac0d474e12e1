"""generate_load_data (docs/performance.md): the S scale's rows, the refusal and
--flush, and that the generated data serves the members' pages."""

import datetime
import random
from io import StringIO

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from alliance import loaddata
from alliance.models import Alliance, ProgramYear
from members.models import Membership, Role, User
from sessions.models import Audience, Meeting, Registration
from workgroups.models import Measure, Participation, Reading

pytestmark = pytest.mark.django_db

S = loaddata.SCALES["S"]
PASSWORD = "load-test-password"


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_load_data", "--scale", "S", "--password", PASSWORD, *args, stdout=out)
    return out.getvalue()


def readings_snapshot() -> set[tuple]:
    with scopes_disabled():
        return set(
            Reading.objects.filter(alliance__slug__startswith="load-").values_list(
                "alliance__slug",
                "measure__workgroup__slug",
                "measure__name",
                "organization__name",
                "period_start",
                "numerator",
                "denominator",
            )
        )


def test_scale_s_counts():
    output = generate()
    counts = loaddata.load_data_counts()
    slots = 4 * 3 * 12 * S.participants_per_workgroup  # workgroups × measures × months × orgs
    assert S.reading_slots == slots
    assert counts | {"readings": 0} == {
        "users": 242,
        "alliances": 2,
        "program years": 2,
        "organizations": 60,
        "memberships": 242,  # 4 per organization and one alliance staff per alliance
        "  of them CEOs": 60,
        "  of them alliance staff": 2,
        "speakers": 16,
        "meetings": 40,
        "agenda items": counts["agenda items"],
        "meeting registrations": 40 * 10,
        "roundtables": 8,
        "roundtable registrations": 8 * 25,
        "workgroups": 4,
        "participations": 4 * S.participants_per_workgroup,
        "focus areas": counts["focus areas"],
        "measures": 12,
        "aims": 4,
        "readings": 0,
    }
    # A few periods are missing, as in real reporting.
    assert 0.95 * slots <= counts["readings"] < slots
    assert f"{counts['readings']:,}" in output
    assert "ceo.0001@load-01.example" in output and PASSWORD in output

    today = timezone.localdate()
    with scopes_disabled():
        for alliance in Alliance.objects.filter(slug__startswith="load-"):
            year = ProgramYear.objects.get(alliance=alliance)
            assert year.contains(today)
            meetings = Meeting.objects.filter(alliance=alliance)
            past = meetings.filter(starts_at__lt=timezone.now()).count()
            assert 0 < past < meetings.count() / 2  # some past, most upcoming
        # Readings only from participants, one per month of the measure's 12.
        participating = set(Participation.objects.values_list("workgroup_id", "organization_id"))
        for workgroup_id, organization_id, period in Reading.objects.filter(
            alliance__slug__startswith="load-"
        ).values_list("measure__workgroup_id", "organization_id", "period_start"):
            assert (workgroup_id, organization_id) in participating
            assert period <= today
        for measure in Measure.objects.filter(alliance__slug__startswith="load-"):
            periods = set(measure.readings.values_list("period_start", flat=True))
            assert len(periods) == 12 and min(periods) == measure.first_period
        # Registrations respect the meeting's audience.
        roles = set(
            Registration.objects.filter(meeting__audience=Audience.CEOS).values_list(
                "membership__role", flat=True
            )
        )
        assert roles == {Role.CEO}
        staff = User.objects.get(email="staff.01@load-01.example")
        assert staff.is_staff and staff.groups.exists() and staff.check_password(PASSWORD)


def test_refuses_a_second_run_and_flush_makes_the_same_rows(tenant_a):
    generate()
    counts, readings = loaddata.load_data_counts(), readings_snapshot()
    with pytest.raises(CommandError, match="--flush"):
        generate()
    generate("--flush")
    assert loaddata.load_data_counts() == counts
    assert readings_snapshot() == readings  # same seed, same values
    # Another alliance's rows are never flushed.
    with scope(alliance=tenant_a.alliance):
        assert Reading.objects.filter(pk=tenant_a.reading.pk).exists()
        assert Membership.objects.filter(pk=tenant_a.membership.pk).exists()


def test_pages_work_on_the_generated_data(client):
    generate()
    slug = "load-01"
    with scope(alliance=Alliance.objects.get(slug=slug)):
        # The CEO of an organization in a workgroup: sees its own values too.
        participant = Participation.objects.filter(workgroup__alliance__slug=slug).first()
        measure = participant.workgroup.measures.first()
        ceo = Membership.objects.get(organization_id=participant.organization_id, role=Role.CEO)
    client.force_login(ceo.user)
    for url in [
        reverse("alliance_home", args=[slug]),
        reverse("workgroups:list", args=[slug]),
        reverse("workgroups:detail", args=[slug, participant.workgroup.slug]),
        reverse("workgroups:measure", args=[slug, measure.pk]),
        reverse("meetings:schedule", args=[slug]),
        reverse("roundtables:list", args=[slug]),
    ]:
        assert client.get(url).status_code == 200, url


def test_build_alliance_with_custom_sizes():
    """What a benchmark does: one alliance of CEOs only, no workgroups, no meetings."""
    alliance = loaddata.build_alliance(
        index=90,
        organizations=50,
        members_per_organization=1,
        meetings=0,
        workgroups=0,
        measures_per_workgroup=0,
        months=0,
        participants_per_workgroup=0,
        roundtables=0,
        rng=random.Random(1),
        password_hash=make_password(PASSWORD),
        today=datetime.date(2024, 5, 15),
    )
    assert alliance.slug == "load-90"
    with scope(alliance=alliance):
        memberships = Membership.objects.filter(alliance=alliance)
        assert memberships.filter(role=Role.CEO).count() == 50
        assert memberships.count() == 51  # and one alliance staff
        assert not Reading.objects.filter(alliance=alliance).exists()
