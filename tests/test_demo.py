import pytest
from django.apps import apps
from django.core.management import call_command
from django_scopes import scopes_disabled

from alliance.models import Alliance

pytestmark = pytest.mark.django_db

COUNTED_APPS = {
    "alliance",
    "members",
    "workgroups",
    "meetings",
    "roundtables",
    "account",
    "auth",
}


def row_snapshot():
    """Every row of every project model, by natural content (not hashes or times)."""
    snapshot = {}
    with scopes_disabled():  # tests may look across alliances
        for model in apps.get_models():
            if model._meta.app_label in COUNTED_APPS:
                snapshot[model._meta.label] = model._default_manager.count()
        snapshot["memberships"] = sorted(
            apps.get_model("members", "Membership").objects.values_list(
                "user__email", "alliance__slug", "role", "organization__name"
            )
        )
    return snapshot


def test_load_demo_is_idempotent(tmp_path):
    call_command("load_demo", password="demo-password-1")
    first = row_snapshot()
    call_command("load_demo", password="demo-password-1")
    assert row_snapshot() == first
    assert Alliance.objects.count() == 2


def test_load_demo_writes_logins_that_work(client, tmp_path):
    tsv = tmp_path / "logins.tsv"
    call_command("load_demo", password="demo-password-1", logins_tsv=tsv)
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    slugs = {row[1] for row in rows}
    assert slugs == {"leadership-alliance", "lead"}
    roles = {(row[1], row[2]) for row in rows}
    for slug in slugs:
        assert {(slug, "ceo"), (slug, "quality_lead"), (slug, "alliance_staff")} <= roles
    emails = [row[0] for row in rows]
    assert any(emails.count(e) == 2 for e in emails), "one user belongs to both alliances"
    assert all(row[3] in {"0", "1"} for row in rows)

    email, slug = next((row[0], row[1]) for row in rows if row[2] == "ceo")
    client.post("/accounts/login/", {"login": email, "password": "demo-password-1"})
    assert client.get(f"/{slug}/").status_code == 200


def test_load_demo_generates_and_prints_a_password(capsys):
    call_command("load_demo")
    assert "Password for every demo login:" in capsys.readouterr().out


def test_demo_roundtables_voice_and_prospectus(client):
    """The national alliance's quarterly roundtables with its three named faculty,
    recordings and summaries for past ones, its collective voice and prospectus."""
    from alliance.models import Publication, Resource
    from roundtables.models import Roundtable

    call_command("load_demo", password="demo-password-1")
    with scopes_disabled():
        roundtables = Roundtable.objects.filter(alliance__slug="leadership-alliance")
        assert roundtables.count() == 4
        faculty = {"Derek Feeley", "Don Berwick", "Maureen Bisognano"}
        for roundtable in roundtables.prefetch_related("facilitators"):
            assert {s.name for s in roundtable.facilitators.all()} == faculty
        recorded = roundtables.exclude(recording_url="").exclude(summary="")
        assert 0 < recorded.count() < 4
        kinds = set(Publication.objects.values_list("kind", flat=True))
        assert kinds == {choice for choice, _ in Publication.Kind.choices}
        assert Publication.objects.filter(workgroup__isnull=False).count() >= 3
        prospectus = Resource.objects.get(kind=Resource.Kind.PROSPECTUS)
        assert prospectus.file.read().startswith(b"%PDF")
        slides = recorded.first().slides
        assert slides.read().startswith(b"%PDF")
