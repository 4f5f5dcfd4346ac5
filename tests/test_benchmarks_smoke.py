"""`python -m benchmarks --smoke` runs every benchmark and reports in the agreed shape.

Structure only: timings are never asserted (the targets are checked by people reading
RESULTS.md from a full run, not by CI on a shared machine)."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "fan-out", "deps/each", "cold start", "reshape", "resident", "memory", "coalescing", "large",
    "batch",
]  # fmt: skip


COMMITTED = ROOT / "benchmarks" / "RESULTS.md"
SMOKE_OUT = ROOT / "benchmarks" / "out" / "RESULTS-smoke.md"


def test_smoke_run_prints_the_table_and_writes_results_elsewhere() -> None:
    committed = COMMITTED.read_bytes()
    SMOKE_OUT.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # a guard against a hang: the smoke run takes ~100 s on a busy 2-core box, plus
        # ~60 s the first time, to build the deploy-like venvs (cached under build/)
        timeout=480,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the committed results are a full run's: a smoke run never touches them
    assert COMMITTED.read_bytes() == committed
    out = SMOKE_OUT
    header = "| benchmark | case | variant | metric | min | median | max | ratio (median) |"
    assert header in done.stdout
    rows = [
        line.split("|")[1].strip() for line in done.stdout.splitlines() if line.startswith("| ")
    ]
    served = all(find_spec(m) is not None for m in ("uvicorn", "starlette"))
    for name in BENCHMARKS:
        optional = name in ("resident", "coalescing") and not served
        assert name in rows or optional, f"no row for {name}"
    variants = ["sff", "httpx", "aiohttp", "raw asyncio"]
    variants += ["hand-written httpx", "hand-written aiohttp"]
    for variant in [*variants, "starlette + httpx", "starlette + aiohttp"] if served else variants:
        assert f"| {variant} |" in done.stdout
    text = out.read_text()
    headings = ["# sff benchmarks: results", "## Targets", "## Beside the anchors (issue 18)"]
    for heading in [*headings, "## All measurements", "## Notes"]:
        assert heading in text
    for field in ("- Date:", "- Machine:", "- Python:", "- Load average", "- Command: `python -m"):
        assert field in text
    assert "| target | value | limit | met |" in text
    assert "importtime" in text
    assert "top modules by self time" in text
    assert "| each 200 items, cap 100 (ideal 100 ms) | sff | CPU us/request |" in done.stdout


def test_a_smoke_run_refuses_to_write_the_committed_results() -> None:
    committed = COMMITTED.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(COMMITTED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "never writes" in done.stderr
    assert COMMITTED.read_bytes() == committed


def test_only_a_full_run_writes_the_committed_results(tmp_path: Path) -> None:
    from benchmarks.__main__ import DEFAULT_OUT, SCRATCH, out_path

    assert DEFAULT_OUT == COMMITTED
    assert out_path(False, None, None) == COMMITTED
    assert out_path(True, None, None).parent == SCRATCH
    assert out_path(False, ["fanout"], None) == SCRATCH / "RESULTS-fanout.md"
    assert out_path(True, None, tmp_path / "x.md") == tmp_path / "x.md"
