"""The report line, billing and percentiles, without processes."""

from __future__ import annotations

import pytest

from sff.serve.report import Invocation, billed, platform_headers, report_line
from sff.serve.stats import Prices, Stats, percentile


@pytest.mark.parametrize(
    ("init", "run", "granularity", "expected"),
    [
        (0, 12.2, 1, 13),
        (0, 12.0, 1, 12),
        (0, 0.01, 1, 1),
        (300.5, 12.2, 100, 400),
        (0, 0, 100, 100),
    ],
)
def test_billed_duration_is_init_plus_run_rounded_up_to_the_granularity(
    init: float, run: float, granularity: int, expected: int
) -> None:
    assert billed(init, run, granularity) == expected


def test_report_line_names_cold_start_init_billing_memory_and_degraded_sources() -> None:
    inv = Invocation("r1", "dashboard", "GET", "/dashboard", status=200, instance="dashboard-1",
                     cold=True, init_ms=412.3, duration_ms=12.41, billed_ms=425, memory_mb=128,
                     max_memory_mb=51.6, degraded=["members", "todos"], starting_together=4,
                     cpus=2)  # fmt: skip

    fields = report_line(inv).split("\t")

    assert fields == [
        "REPORT RequestId: r1", "Function: dashboard", "Instance: dashboard-1", "Start: cold",
        "Status: 200", "Init Duration: 412.30 ms",
        "Init Concurrency: 4 starting at once on 2 CPUs", "Duration: 12.41 ms",
        "Billed Duration: 425 ms", "Memory Size: 128 MB", "Max Memory Used: 52 MB",
        "Degraded: members,todos",
    ]  # fmt: skip


def test_warm_headers_have_no_init_timing_and_cold_ones_put_it_first() -> None:
    warm = Invocation("r2", "f", "GET", "/f", instance="f-1")
    cold = Invocation("r3", "f", "GET", "/f", instance="f-2", cold=True, init_ms=300)

    assert platform_headers(warm, "user;dur=3.0")["server-timing"] == "user;dur=3.0"
    assert platform_headers(warm, None)["x-sff-cold-start"] == "false"
    timing = platform_headers(cold, "user;dur=3.0")["server-timing"]
    assert timing == 'init;dur=300.0;desc="cold start", user;dur=3.0'


def test_stats_count_throttled_requests_apart_from_invocations() -> None:
    stats = Stats(Prices(per_million=0.2, per_gb_second=0.0000166667))
    stats.add(Invocation("a", "f", "GET", "/f", status=200, instance="f-1", cold=True,
                         billed_ms=1000, memory_mb=1024, latency_ms=10))  # fmt: skip
    stats.add(Invocation("b", "f", "GET", "/f", status=503))

    f = stats.summary()["functions"]["f"]
    assert (f["invocations"], f["cold_starts"], f["throttled"], f["gb_seconds"]) == (1, 1, 1, 1.0)
    assert f["cost_usd"] == pytest.approx(0.2 / 1e6 + 0.0000166667)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile([], 50)) == (50, 95, None)


def test_init_is_summed_apart_alone_and_under_contention() -> None:
    stats = Stats(Prices(per_million=0.2, per_gb_second=0.0000166667))
    for init, together in ((200.0, 1), (400.0, 4), (420.0, 4)):
        stats.add(Invocation("a", "f", "GET", "/f", status=200, instance="f-1", cold=True,
                             init_ms=init, starting_together=together))  # fmt: skip

    f = stats.summary()["functions"]["f"]
    assert (f["avg_init_alone_ms"], f["avg_init_contended_ms"]) == (200.0, 410.0)
    assert f["most_starting_at_once"] == 4
