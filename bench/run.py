"""`make bench`: measure the portal against the load data, side by side with a
bare Django view, and write `var/bench/latest.json` plus a table on stdout.

    .venv/bin/python -m bench.run [--sqlite] [--rounds 3] [--duration 5]

Pages are served by gunicorn (sync workers, the production settings over
loopback HTTP: `alliance.settings.bench`) and loaded by wrk. Each round runs
every page once, alternating the order (A B C … then … C B A) so that drift in
the machine's speed falls on every page alike. Jobs (digests, reminders) run
in child processes so that each one's memory is its own.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
PG_URL = "postgres://alliance:alliance@127.0.0.1:5432/alliance_bench"
REPORT_SCRIPT = Path(__file__).with_name("report.lua")


def bench_environment(*, sqlite: bool, port: int) -> dict[str, str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "alliance.settings.bench",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SITE_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", PG_URL),
        # Its own Redis database: the bench's cache never meets the tests'.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "EMAIL_URL": "smtp://127.0.0.1:1",  # replaced by the null backend
        "DEFAULT_FROM_EMAIL": "Alliance portal <noreply@bench.example>",
        "LOG_LEVEL": "WARNING",
    }
    if sqlite:
        environment["BENCH_SQLITE_URL"] = f"sqlite:///{VAR / 'bench.sqlite3'}"
    return environment


def manage(environment, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=environment, check=True)


def ensure_postgres_database(url: str) -> None:
    """Create the bench database if it is missing (the role has CREATEDB)."""
    import psycopg2
    from psycopg2 import sql

    dsn, _, name = url.rpartition("/")
    try:
        connection = psycopg2.connect(f"{dsn}/postgres")
    except psycopg2.OperationalError as error:
        sys.exit(
            f"PostgreSQL is not reachable at {dsn} ({error}).\n"
            "Start it (make bench does: bin/services) or set BENCH_DATABASE_URL."
        )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


# Pages
# ------------------------------------------------------------------------------


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    for _ in range(120):
        if process.poll() is not None:
            sys.exit("gunicorn stopped while starting; see its output above.")
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.5)
    sys.exit("gunicorn did not answer /healthz within 60 s.")


def worker_rss_mb(master_pid: int) -> float:
    """The largest resident set of gunicorn's workers, in MB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    largest = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                largest = max(largest, int(line.split()[1]))
    return round(largest / 1024, 1)


def check_status(base: str, page: dict) -> None:
    request = urllib.request.Request(base + page["path"])
    if page["cookie"]:
        request.add_header("Cookie", page["cookie"])

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        status = urllib.request.build_opener(NoRedirect).open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        sys.exit(f"{page['name']} ({page['path']}) answers {status} under gunicorn, not 200.")


def wrk(base: str, page: dict, *, duration: float, connections: int) -> dict:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{int(duration)}s",
        "--timeout",
        "10s",
        "--script",
        str(REPORT_SCRIPT),
    ]
    if page["cookie"]:
        command += ["--header", f"Cookie: {page['cookie']}"]
    output = subprocess.run(
        [*command, base + page["path"]], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def start_gunicorn(args, environment, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "alliance.wsgi",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # Each server its own control socket: two on one default path collide.
            "--control-socket",
            str(VAR / f"gunicorn-{port}.ctl"),
        ],
        cwd=ROOT,
        env=environment,
    )


def measure_pages(args, environment, pages: list[dict]) -> list[dict]:
    """Every page in alternating rounds. Member pages are measured twice: as
    served (the page cache on) and rendered on every request, by a second
    server with the page cache off (what each cache miss costs)."""
    ports = {"cached": args.port, "rendered": args.port + 1}
    servers = {
        "cached": start_gunicorn(args, environment, ports["cached"]),
        "rendered": start_gunicorn(
            args, {**environment, "MEMBER_PAGE_CACHE_SECONDS": "0"}, ports["rendered"]
        ),
    }

    def base(page):
        return f"http://127.0.0.1:{ports[page['server']]}"

    try:
        for server, process in servers.items():
            wait_until_up(f"http://127.0.0.1:{ports[server]}", process)
        for page in pages:
            check_status(base(page), page)
            wrk(base(page), page, duration=1, connections=args.connections)  # warm up
        runs = {page["name"]: [] for page in pages}
        memory = {page["name"]: 0.0 for page in pages}
        for round_number in range(args.rounds):
            order = pages if round_number % 2 == 0 else pages[::-1]
            for page in order:
                result = wrk(base(page), page, duration=args.duration, connections=args.connections)
                runs[page["name"]].append(result)
                rss = worker_rss_mb(servers[page["server"]].pid)
                memory[page["name"]] = max(memory[page["name"]], rss)
                print(
                    f"  round {round_number + 1}: {page['name']:<32} {result['rps']:8.1f} req/s",
                    flush=True,
                )
    finally:
        for process in servers.values():
            process.terminate()
        for process in servers.values():
            process.wait(timeout=30)
    return [summarize(page, runs[page["name"]], memory[page["name"]]) for page in pages]


def summarize(page: dict, runs: list[dict], memory_mb: float) -> dict:
    def median(key):
        return statistics.median(run[key] for run in runs)

    rates = [run["rps"] for run in runs]
    return {
        "name": page["name"],
        "path": page["path"],
        "kind": page["kind"],
        "rps_median": round(statistics.median(rates), 1),
        "rps_min": round(min(rates), 1),
        "rps_max": round(max(rates), 1),
        "p50_ms": round(median("p50") / 1000, 2),
        "p95_ms": round(median("p95") / 1000, 2),
        "p99_ms": round(median("p99") / 1000, 2),
        "errors": sum(run["non_2xx_or_errors"] for run in runs),
        "queries": page["queries"],
        "queries_cached": page["queries_cached"],
        "queries_first": page["queries_first"],
        "worker_rss_mb": memory_mb,
    }


# Jobs
# ------------------------------------------------------------------------------


# Runs of the gated jobs, each in a fresh process: the median is reported
# with the spread. On this machine one run of a job can be 20% off the next
# (checkpoints, autovacuum, the host): one run alone would be a draw.
JOB_RUNS = {"digests": 3, "reminders": 5}


def median_run(runs: list[dict], key: str) -> dict:
    """The run whose `key` is the median, with every run's figure and the
    largest peak memory of them all (memory growth is judged on the worst)."""
    ordered = sorted(runs, key=lambda run: run[key])
    return {
        **ordered[len(ordered) // 2],
        "runs": [run[key] for run in runs],
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
    }


def run_job(environment, *args) -> dict:
    output = subprocess.run(
        [PYTHON, "-m", "bench.jobs", *args],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


# Report
# ------------------------------------------------------------------------------

PAGE_GATES = {"throughput_ratio": 0.35, "p95_ratio": 3.0, "member_queries": 8, "admin_queries": 12}
DIGEST_GATES = {"per_second_per_core": 500, "queries_per_batch": 6, "growth_mb": 25}
REMINDER_GATE_SECONDS = 2.0


def with_ratios(results: list[dict]) -> list[dict]:
    bare = next(result for result in results if result["kind"] == "bare")
    for result in results:
        result["throughput_ratio"] = round(result["rps_median"] / bare["rps_median"], 3)
        result["p95_ratio"] = round(result["p95_ms"] / bare["p95_ms"], 2)
        if not result["rps_min"]:
            # A round in which no request finished: --duration is too short for it.
            result["passes"] = None
            result["no_data"] = True
        elif result["kind"] == "member":
            result["passes"] = (
                result["throughput_ratio"] >= PAGE_GATES["throughput_ratio"]
                and result["p95_ratio"] <= PAGE_GATES["p95_ratio"]
                and result["queries"] <= PAGE_GATES["member_queries"]
            )
        elif result["kind"] == "rendered":
            result["passes"] = result["queries"] <= PAGE_GATES["member_queries"]
        elif result["kind"] == "admin":
            result["passes"] = result["queries"] <= PAGE_GATES["admin_queries"]
    return results


def page_table(results: list[dict]) -> str:
    header = (
        "| page | req/s (median) | min–max | × bare | p50 ms | p95 ms | p99 ms | p95 × bare "
        "| queries | worker MB | gate |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
    )
    rows = []
    for r in results:
        gate = {True: "pass", False: "**FAIL**"}.get(r.get("passes"), "baseline")
        if r["kind"] in ("login", "reference"):
            gate = "reported"
        elif r["kind"] == "rendered":
            gate = f"queries {gate}; speed reported"
        queries = str(r["queries"])
        if r["kind"] == "member":
            queries += f" ({r['queries_cached']} served)"
        if r.get("no_data"):
            gate = "**no data** (longer --duration)"
        rows.append(
            f"| {r['name']} | {r['rps_median']:.0f} | {r['rps_min']:.0f}–{r['rps_max']:.0f} "
            f"| {r['throughput_ratio']:.2f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['p95_ratio']:.2f} | {queries} "
            f"| {r['worker_rss_mb']:.0f} | {gate} |"
        )
    return header + "\n".join(rows)


def digest_table(digests: list[dict]) -> str:
    rows = [
        "| CEOs | digests queued | per second per core | wall s | queries (all) "
        "| batches | peak RSS MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for d in digests:
        rows.append(
            f"| {d['ceos']:,} | {d['digests']:,} | {d['per_second_per_core']:.0f} "
            f"| {d['wall_seconds']:.2f} | {d['queries']} | {d['batches']} "
            f"| {d['peak_rss_mb']:.0f} |"
        )
    return "\n".join(rows)


def spread(figures: list[float], form: str) -> str:
    return f"{len(figures)} runs, {min(figures):{form}}–{max(figures):{form}}"


def job_gates(report: dict) -> list[tuple[str, str, bool]]:
    """(gate, figure, passes) for the digest and reminder gates."""
    large = report["digests"][-1]
    reminders = report["reminders"]
    return [
        (
            f"digests per second per core at {large['ceos']:,} CEOs "
            f"≥ {DIGEST_GATES['per_second_per_core']}",
            f"{large['per_second_per_core']:.0f} (median of {spread(large['runs'], '.0f')})",
            large["per_second_per_core"] >= DIGEST_GATES["per_second_per_core"],
        ),
        (
            f"digest queries per batch ≤ {DIGEST_GATES['queries_per_batch']}",
            f"{report['digest_queries_per_batch']}",
            report["digest_queries_per_batch"] <= DIGEST_GATES["queries_per_batch"],
        ),
        (
            f"digest memory growth 1,000 → 10,000 CEOs ≤ {DIGEST_GATES['growth_mb']} MB",
            f"{report['digest_memory_growth_mb']:.0f} MB",
            report["digest_memory_growth_mb"] <= DIGEST_GATES["growth_mb"],
        ),
        (
            f"reminder sweep over {reminders['registrations']:,} registrations "
            f"≤ {REMINDER_GATE_SECONDS:.0f} s",
            f"{reminders['seconds']:.2f} s (median of {spread(reminders['runs'], '.2f')})",
            reminders["seconds"] <= REMINDER_GATE_SECONDS,
        ),
        (
            f"the next sweep (nothing new) ≤ {REMINDER_GATE_SECONDS:.0f} s",
            f"{reminders['repeat_seconds']:.2f} s",
            reminders["repeat_seconds"] <= REMINDER_GATE_SECONDS,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL.")
    parser.add_argument("--scale", default="M", choices=["S", "M", "L"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="Seconds per page per round.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    args = parser.parse_args()
    if args.rounds < 3:
        parser.error("at least 3 rounds: one alone says nothing about the spread")
    if not shutil.which("wrk") and not args.skip_pages:
        sys.exit("wrk is missing: apt-get install wrk (make bench installs it).")

    VAR.mkdir(parents=True, exist_ok=True)
    environment = bench_environment(sqlite=args.sqlite, port=args.port)
    if not args.sqlite:
        ensure_postgres_database(environment["DATABASE_URL"])
    print(f"::: database: {'SQLite' if args.sqlite else 'PostgreSQL'}; load data {args.scale}")
    manage(environment, "migrate", "--noinput", "-v0")
    manage(environment, "collectstatic", "--noinput", "-v0")
    run_job(environment, "dataset", "--scale", args.scale)

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "database": "sqlite" if args.sqlite else "postgresql",
        },
        "settings": vars(args),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if not args.skip_pages:
        print("::: pages (gunicorn + wrk)")
        pages = run_job(environment, "pages")["pages"]
        report["pages"] = with_ratios(measure_pages(args, environment, pages))
    if not args.skip_jobs:
        print("::: digests")
        report["digests"] = []
        for ceos in (100, 1000, 10000):
            run_job(environment, "digests", "--ceos", str(ceos), "--prepare")
            runs = [
                run_job(environment, "digests", "--ceos", str(ceos))
                for _ in range(JOB_RUNS["digests"] if ceos == 10000 else 1)
            ]
            report["digests"].append(median_run(runs, "per_second_per_core"))
        small, large = report["digests"][1], report["digests"][2]
        report["digest_memory_growth_mb"] = round(large["peak_rss_mb"] - small["peak_rss_mb"], 1)
        # What one more batch costs: the run's fixed queries (the feed) cancel out.
        report["digest_queries_per_batch"] = round(
            (large["queries"] - small["queries"]) / (large["batches"] - small["batches"]), 1
        )
        report["digest_queries_per_run"] = round(
            small["queries"] - report["digest_queries_per_batch"] * small["batches"], 1
        )
        print("::: reminders")
        run_job(environment, "reminders", "--registrations", "10000", "--prepare")
        runs = [
            run_job(environment, "reminders", "--registrations", "10000")
            for _ in range(JOB_RUNS["reminders"])
        ]
        report["reminders"] = median_run(runs, "seconds")
        report["job_gates"] = [
            {"gate": gate, "now": figure, "passes": passes}
            for gate, figure, passes in job_gates(report)
        ]

    (VAR / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    machine = report["machine"]
    print(f"Bench {report['when']} on {machine['cpus']} CPUs, {machine['database']}")
    if "pages" in report:
        print(page_table(report["pages"]))
    if "digests" in report:
        print()
        print(digest_table(report["digests"]))
        growth = report["digest_memory_growth_mb"]
        print(f"Memory growth from 1,000 to 10,000 CEOs: {growth:.1f} MB")
        print(
            f"Digest queries: {report['digest_queries_per_batch']} per batch of 500, "
            f"{report['digest_queries_per_run']} more per run"
        )
        reminders = report["reminders"]
        print(
            f"Reminder sweep: {reminders['queued']:,} reminders for {reminders['registrations']:,} "
            f"registrations in {reminders['seconds']:.2f} s, {reminders['queries_per_batch']} "
            f"queries per batch; the next sweep (nothing new) {reminders['repeat_seconds']:.2f} s, "
            f"{reminders['repeat_queries']} queries"
        )
        print()
        for gate in report["job_gates"]:
            verdict = "pass" if gate["passes"] else "FAIL"
            print(f"  {verdict:<4}  {gate['gate']}: {gate['now']}")
    print(f"\nWritten to {VAR / 'latest.json'}")


if __name__ == "__main__":
    main()
