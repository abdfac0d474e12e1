"""The in-process parts of `make bench`, one per child process (run by bench.run):

    python -m bench.jobs dataset --scale M     load data, unless it is loaded
    python -m bench.jobs pages                 sessions, URLs and query counts
    python -m bench.jobs digests --ceos N      the digest job for N CEOs
    python -m bench.jobs reminders --registrations N

Each prints one JSON line last. Child processes keep each job's peak memory its own.
"""

import argparse
import datetime
import json
import random
import resource
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import django

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.mail import get_connection  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_scopes import scope  # noqa: E402

from alliance import loaddata  # noqa: E402
from alliance.celery_app import prepare_worker_process  # noqa: E402
from alliance.models import Alliance, OutgoingEmail, ProgramYear, SharedEmailBody  # noqa: E402
from alliance.notifications.delivery import _message_for as delivery_message  # noqa: E402
from alliance.notifications.digests import KIND as DIGEST_KIND  # noqa: E402
from alliance.notifications.digests import send_alliance_digests  # noqa: E402
from alliance.notifications.reminders import BATCH_SIZE as REMINDER_BATCH_SIZE  # noqa: E402
from alliance.notifications.reminders import reminders_dispatch  # noqa: E402
from members.models import Membership, Organization, Role  # noqa: E402
from sessions.models import Meeting, Registration  # noqa: E402
from workgroups.models import Measure, Participation  # noqa: E402

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class QueryCounter:
    """Counts the statements run, keeping none of them: CaptureQueriesContext
    keeps every SQL text, and a batch's INSERT of 500 digests is megabytes."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL):
            with self._lock:
                self.count += 1
        return execute(sql, params, many, context)

    def __len__(self):
        return self.count


@contextmanager
def counting_queries():
    """Counts this thread's statements and those of connections opened meanwhile
    (a reminder sweep writes on a second connection, in a thread of its own)."""
    counter = QueryCounter()

    def count_on(sender, connection, **kwargs):
        connection.execute_wrappers.append(counter)

    connection_created.connect(count_on)
    try:
        with connection.execute_wrapper(counter):
            yield counter
    finally:
        connection_created.disconnect(count_on)


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Data set
# ------------------------------------------------------------------------------


def dataset(scale: str) -> dict:
    """Load data of `scale`, made again if what is there has another size or has
    aged (its dates follow the day it was made: months later, the program year
    is over and no meeting is ahead)."""
    expected = loaddata.SCALES[scale].organizations
    alliances = loaddata.load_alliances()
    today = timezone.localdate()
    with scope(alliance=alliances):
        loaded = Organization.objects.filter(alliance__in=alliances).count()
        current = ProgramYear.objects.filter(
            alliance__in=alliances,
            starts_on__lte=today,
            ends_on__gte=today + datetime.timedelta(days=60),
        ).count()
    if loaded != expected or current != len(alliances):
        call_command("generate_load_data", "--scale", scale, "--flush")
    return {"scale": scale, "organizations": expected}


# Pages
# ------------------------------------------------------------------------------


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def count_queries(path: str, cookie: str) -> tuple[int, int, int]:
    """Queries of the first GET (cold caches), of a GET rendered again (what a
    page costs when its cached copy is stale) and of a GET served from the page
    cache (alliance/pagecache.py)."""
    client = Client()
    if cookie:
        name, _, value = cookie.partition("=")
        client.cookies[name] = value
    counts = []
    for page_cache_seconds in (0, 0, 60, 60):
        with (
            override_settings(MEMBER_PAGE_CACHE_SECONDS=page_cache_seconds),
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answers {response.status_code} in process, not 200.")
        counts.append(len(queries))
    return counts[0], counts[1], counts[3]


def pages() -> dict:
    alliance = loaddata.load_alliances()[0]
    with scope(alliance=alliance):
        # A CEO whose organization reports to a workgroup: every member page has data.
        participation = (
            Participation.objects.filter(workgroup__alliance=alliance)
            .select_related("workgroup", "organization")
            .order_by("pk")
            .first()
        )
        member = Membership.objects.get(
            alliance=alliance, organization=participation.organization, role=Role.CEO
        ).user
        staff = (
            Membership.objects.filter(alliance=alliance, role=Role.ALLIANCE_STAFF)
            .select_related("user")
            .first()
            .user
        )
        if not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(staff, generate_totp_secret())
        meeting = (
            Meeting.objects.filter(alliance=alliance, starts_at__gte=timezone.now())
            .order_by("starts_at")
            .first()
        )
        measure = Measure.objects.filter(workgroup=participation.workgroup).order_by("pk").first()
    slug = alliance.slug
    member_cookie, staff_cookie = session_cookie(member), session_cookie(staff)
    plan = [
        # The baseline: the same signed-in member's request, so the session and
        # the user are loaded as for every member page (StaffMFARequiredMiddleware
        # reads request.user on every request); only the page's own work differs.
        ("bare view, signed in", "bare", reverse("bare"), member_cookie),
        ("bare view, anonymous", "reference", reverse("bare"), ""),
        ("login page", "login", reverse("account_login"), ""),
        ("alliance home", "member", reverse("alliance_home", args=[slug]), member_cookie),
        ("schedule", "member", reverse("meetings:schedule", args=[slug]), member_cookie),
        ("meeting", "member", reverse("meetings:detail", args=[slug, meeting.pk]), member_cookie),
        (
            "workgroup",
            "member",
            reverse("workgroups:detail", args=[slug, participation.workgroup.slug]),
            member_cookie,
        ),
        (
            "measure + run chart",
            "member",
            reverse("workgroups:measure", args=[slug, measure.pk]),
            member_cookie,
        ),
        ("member directory", "member", reverse("members:directory", args=[slug]), member_cookie),
        (
            "admin: registrations",
            "admin",
            reverse("admin:meetings_registration_changelist"),
            staff_cookie,
        ),
        ("admin: readings", "admin", reverse("admin:workgroups_reading_changelist"), staff_cookie),
    ]
    result = []
    for name, kind, path, cookie in plan:
        first, rendered, cached = count_queries(path, cookie)
        page = {
            "name": name,
            "kind": kind,
            "path": path,
            "cookie": cookie,
            "server": "cached",
            "queries": rendered,
            "queries_cached": cached if kind == "member" else rendered,
            "queries_first": first,
        }
        result.append(page)
        if kind == "member":
            # The same page with the page cache off: what every cache miss costs.
            result.append(
                {**page, "name": f"{name}, rendered", "kind": "rendered", "server": "rendered"}
            )
    return {"pages": result}


# Jobs: digests and reminders, each in an alliance of its own
# ------------------------------------------------------------------------------


def job_alliance(slug: str, **sizes) -> Alliance:
    """The alliance `slug`, built once with `sizes` and reused by later runs."""
    alliance = Alliance.objects.filter(slug=slug).first()
    if alliance is None:
        alliance = loaddata.build_alliance(
            slug=slug,
            index=0,
            rng=random.Random(slug),  # noqa: S311  (not secrets)
            password_hash=make_password(None),
            **sizes,
        )
    return alliance


def digests(ceos: int, *, prepare: bool = False) -> dict:
    """Queue and build every CEO's digest: render, MIME, the null backend.

    The alliance has `ceos` organizations, each with its CEO reporting to one of
    four workgroups (three measures, twelve months), and a year of meetings.
    With `prepare`, only build that alliance: in a process of its own, so that
    building never counts in the measured process's peak memory.
    """
    alliance = job_alliance(
        f"bench-digests-{ceos}",
        organizations=ceos,
        members_per_organization=1,
        meetings=24,
        workgroups=4,
        measures_per_workgroup=3,
        months=12,
        participants_per_workgroup=ceos // 4,
        registrations_per_meeting=min(ceos, 50),
    )
    if prepare:
        return {"ceos": ceos, "alliance": alliance.slug}
    # As a worker's process is before its first task (loading the URL
    # configuration and the templates took half a second in a fresh process).
    prepare_worker_process()
    backend = get_connection()
    with scope(alliance=alliance):
        OutgoingEmail.objects.filter(alliance=alliance).delete()
        SharedEmailBody.objects.filter(alliance=alliance).delete()
        baseline_rss = peak_rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        with counting_queries() as queries:
            run = send_alliance_digests(alliance=alliance, now=timezone.now(), force=True)
        queued_at = time.perf_counter()
        rss_after_queue = current_rss_mb()
        built = 0
        rows = OutgoingEmail.objects.filter(alliance=alliance, kind=DIGEST_KIND)
        # By chunks of 500 ids (a delivery task takes 200): never every
        # 13 KB row at once.
        ids = list(rows.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), 500):
            for row in rows.filter(pk__in=ids[start : start + 500]):
                built += backend.send_messages([delivery_message(row)])
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    if built != run.queued or not run.queued:
        sys.exit(f"{run.queued} digests queued but {built} built for {ceos} CEOs.")
    return {
        "ceos": ceos,
        "digests": built,
        "skipped": run.skipped,
        "batches": run.batches,
        "queries": len(queries),
        # Fixed queries of the run are shared out over its batches.
        "queries_per_batch": round(len(queries) / run.batches, 1),
        "queue_seconds": round(queued_at - started, 2),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        # One process, one core: what it did over the wall-clock time it took.
        "per_second_per_core": round(built / wall, 1),
        "baseline_rss_mb": round(baseline_rss, 1),
        "rss_after_queue_mb": rss_after_queue,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def reminders(registrations: int, *, prepare: bool = False) -> dict:
    """One reminder sweep over `registrations` registrations for meetings due a reminder.

    Every member has answered every meeting (100 meetings, 100 members each), so
    the sweep is all reminders: no RSVP nudges to others.
    """
    meetings = max(1, registrations // 100)
    alliance = job_alliance(
        f"bench-reminders-{meetings}x100",
        organizations=100,
        members_per_organization=1,
        meetings=meetings,
        workgroups=0,
        measures_per_workgroup=0,
        months=0,
        participants_per_workgroup=0,
        registrations_per_meeting=100,
        roundtables=0,
    )
    if prepare:
        return {"registrations": registrations, "alliance": alliance.slug}
    # As a worker's process is before its first task (loading the URL
    # configuration and the templates took half a second in a fresh process).
    prepare_worker_process()
    now = timezone.now()
    with scope(alliance=alliance):
        # Every meeting starts within the day: each registrant is due the 24-hour reminder.
        starts = now + datetime.timedelta(hours=20)
        Meeting.objects.filter(alliance=alliance).update(
            status=Meeting.Status.SCHEDULED,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=6),
            original_starts_at=None,
        )
        Meeting.objects.filter(alliance=alliance, dinner_at__isnull=False).update(
            dinner_at=starts + datetime.timedelta(hours=5)
        )
        OutgoingEmail.objects.filter(alliance=alliance).delete()
        SharedEmailBody.objects.filter(alliance=alliance).delete()
        count = Registration.objects.filter(alliance=alliance).count()
        started = time.perf_counter()
        with counting_queries() as queries:
            queued = reminders_dispatch(alliance=alliance, now=now)
        seconds = time.perf_counter() - started
        # The next sweep, five minutes on: everything is queued already.
        started = time.perf_counter()
        with counting_queries() as repeat_queries:
            requeued = reminders_dispatch(
                alliance=alliance, now=now + datetime.timedelta(minutes=5)
            )
        repeat_seconds = time.perf_counter() - started
    batches = -(-meetings // REMINDER_BATCH_SIZE)
    return {
        "registrations": count,
        "meetings": meetings,
        "queued": queued,
        "seconds": round(seconds, 2),
        "queries": len(queries),
        "batches": batches,
        "queries_per_batch": round(len(queries) / batches, 1),
        "repeat_seconds": round(repeat_seconds, 2),
        "repeat_queued": requeued,
        "repeat_queries": len(repeat_queries),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="job", required=True)
    sub.add_parser("dataset").add_argument("--scale", default="M")
    sub.add_parser("pages")
    for name, size in (("digests", "--ceos"), ("reminders", "--registrations")):
        job = sub.add_parser(name)
        job.add_argument(size, type=int, required=True)
        job.add_argument("--prepare", action="store_true", help="Only build its alliance.")
    args = parser.parse_args()
    if args.job == "dataset":
        result = dataset(args.scale)
    elif args.job == "pages":
        result = pages()
    elif args.job == "digests":
        result = digests(args.ceos, prepare=args.prepare)
    else:
        result = reminders(args.registrations, prepare=args.prepare)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
