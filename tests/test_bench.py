"""The benchmark's arithmetic and its null mail backend (make bench itself is not
run by the suite: it takes minutes and measures speed, which tests never assert)."""

import re

from django.core.mail import EmailMultiAlternatives

from bench.null_backend import EmailBackend
from bench.run import job_gates, median_run, page_table, with_ratios


def result(name, kind, rps, p95, queries):
    return {
        "name": name,
        "kind": kind,
        "rps_median": rps,
        "rps_min": rps,
        "rps_max": rps,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95,
        "queries": queries,
        "queries_cached": 3,
        "worker_rss_mb": 60.0,
    }


def test_ratios_and_gates_are_against_the_bare_view():
    results = with_ratios(
        [
            result("bare view", "bare", 1000, 2.0, 0),
            result("fast page", "member", 400, 5.0, 6),
            result("slow page", "member", 300, 5.0, 6),  # under 0.35 × bare
            result("chatty page", "member", 500, 4.0, 9),  # over 8 queries
            result("wide p95", "member", 500, 7.0, 6),  # over 3 × bare's p95
            result("changelist", "admin", 50, 40.0, 12),
            result("page, rendered", "rendered", 20, 80.0, 8),  # speed reported, queries judged
            result("chatty, rendered", "rendered", 20, 80.0, 9),
            result("bare, anonymous", "reference", 3000, 1.0, 0),
        ]
    )
    by_name = {r["name"]: r for r in results}
    assert by_name["fast page"]["throughput_ratio"] == 0.4
    assert by_name["fast page"]["p95_ratio"] == 2.5
    assert by_name["fast page"]["passes"] is True
    assert by_name["slow page"]["passes"] is False
    assert by_name["chatty page"]["passes"] is False
    assert by_name["wide p95"]["passes"] is False
    assert by_name["changelist"]["passes"] is True
    assert by_name["page, rendered"]["passes"] is True
    assert by_name["chatty, rendered"]["passes"] is False
    table = page_table(results)
    assert "| fast page | 400 |" in table and "**FAIL**" in table and "baseline" in table
    assert "| 6 (3 served) |" in table
    assert by_name["bare, anonymous"]["throughput_ratio"] == 3.0
    assert "passes" not in by_name["bare, anonymous"]
    assert re.search(r"\| bare, anonymous \|.*\| reported \|", table)
    assert "queries pass; speed reported" in table and "queries **FAIL**; speed reported" in table


def test_the_null_backend_builds_every_message():
    message = EmailMultiAlternatives("Subject", "Text", "from@example.org", ["to@example.org"])
    message.attach_alternative("<p>HTML</p>", "text/html")
    built = []
    original = message.message

    def spy():
        built.append(original())
        return built[-1]

    message.message = spy
    assert EmailBackend().send_messages([message]) == 1
    assert built and built[0].is_multipart()


def test_a_round_without_a_finished_request_is_no_data_not_a_pass():
    results = with_ratios(
        [result("bare view", "bare", 1000, 2.0, 0), result("slow changelist", "admin", 0, 0, 12)]
    )
    assert results[1]["passes"] is None
    assert "**no data**" in page_table(results)


def test_job_gates_judge_the_largest_digest_run_and_both_sweeps():
    report = {
        "digests": [
            {"ceos": 1000, "per_second_per_core": 900},
            {"ceos": 10000, "per_second_per_core": 499, "runs": [520, 499, 480]},
        ],
        "digest_queries_per_batch": 6.0,
        "digest_memory_growth_mb": 26.0,
        "reminders": {
            "registrations": 10000,
            "seconds": 1.9,
            "repeat_seconds": 2.1,
            "runs": [2.4, 1.9, 1.8],
        },
    }
    gates = job_gates(report)
    assert [passes for _, _, passes in gates] == [False, True, False, True, False]
    assert gates[0][1] == "499 (median of 3 runs, 480–520)"
    assert gates[3][1] == "1.90 s (median of 3 runs, 1.80–2.40)"


def test_a_gated_job_is_judged_on_its_median_run_and_its_worst_memory():
    runs = [
        {"seconds": 2.4, "peak_rss_mb": 140.0},
        {"seconds": 1.8, "peak_rss_mb": 150.0},
        {"seconds": 1.9, "peak_rss_mb": 141.0},
    ]
    assert median_run(runs, "seconds") == {
        "seconds": 1.9,
        "peak_rss_mb": 150.0,
        "runs": [2.4, 1.8, 1.9],
    }
