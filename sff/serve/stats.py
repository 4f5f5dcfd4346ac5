"""What the traffic added up to, per function: the numbers to compare the process models."""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sff.serve.report import Invocation

RECENT = 200  # invocations kept for the page
LATENCIES = 100_000  # per function, for the percentiles


@dataclass
class FunctionStats:
    invocations: int = 0
    cold_starts: int = 0
    errors: int = 0  # 5xx answers
    throttled: int = 0  # 503: no instance free in time
    gb_seconds: float = 0.0
    billed_ms: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCIES))
    init_ms: list[float] = field(default_factory=list)
    init_alone_ms: list[float] = field(default_factory=list)  # no other instance starting
    init_contended_ms: list[float] = field(default_factory=list)  # others starting too
    most_starting: int = 0


@dataclass
class Prices:
    per_million: float
    per_gb_second: float


class Stats:
    def __init__(self, prices: Prices) -> None:
        self.prices = prices
        self.functions: dict[str, FunctionStats] = {}
        self.recent: deque[Invocation] = deque(maxlen=RECENT)

    def add(self, inv: Invocation) -> None:
        self.recent.append(inv)
        stats = self.functions.setdefault(inv.function, FunctionStats())
        if inv.status == 503 and inv.instance == "-":
            stats.throttled += 1  # never reached an instance: not an invocation
            return
        stats.invocations += 1
        stats.cold_starts += inv.cold
        stats.errors += inv.status >= 500
        stats.billed_ms += inv.billed_ms
        stats.gb_seconds += inv.gb_seconds
        stats.latencies.append(inv.latency_ms)
        if inv.cold:
            stats.init_ms.append(inv.init_ms)
            alone = inv.starting_together <= 1
            (stats.init_alone_ms if alone else stats.init_contended_ms).append(inv.init_ms)
            stats.most_starting = max(stats.most_starting, inv.starting_together)

    def summary(self) -> dict[str, Any]:
        per = {name: self._function(s) for name, s in sorted(self.functions.items())}
        return {
            "functions": per,
            "total": {
                "invocations": sum(p["invocations"] for p in per.values()),
                "cold_starts": sum(p["cold_starts"] for p in per.values()),
                "gb_seconds": round(sum(p["gb_seconds"] for p in per.values()), 6),
                "cost_usd": round(sum(p["cost_usd"] for p in per.values()), 12),
            },
            "prices": {
                "per_million_invocations": self.prices.per_million,
                "per_gb_second": self.prices.per_gb_second,
                "note": "example prices; pass your platform's with --price-* flags",
            },
            "host": {"cpus": os.cpu_count() or 1},
        }

    def _function(self, s: FunctionStats) -> dict[str, Any]:
        ordered = sorted(s.latencies)
        cost = s.invocations * self.prices.per_million / 1e6 + s.gb_seconds * (
            self.prices.per_gb_second
        )
        return {
            "invocations": s.invocations,
            "cold_starts": s.cold_starts,
            "errors": s.errors,
            "throttled": s.throttled,
            "p50_ms": percentile(ordered, 50),
            "p95_ms": percentile(ordered, 95),
            "avg_init_ms": _mean(s.init_ms),
            "avg_init_alone_ms": _mean(s.init_alone_ms),
            "avg_init_contended_ms": _mean(s.init_contended_ms),
            "most_starting_at_once": s.most_starting,
            "billed_ms": s.billed_ms,
            "gb_seconds": round(s.gb_seconds, 6),
            "cost_usd": round(cost, 12),
        }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def percentile(ordered: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted values (None without any)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 2)


def summary_text(summary: dict[str, Any], model: str) -> str:
    """The summary as a table, for the terminal at exit."""
    head = (
        f"{'function':<16} {'calls':>6} {'cold':>5} {'5xx':>4} {'503':>4} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'init ms':>8} {'alone':>8} {'contended':>9} {'GB-s':>10} "
        f"{'cost USD':>12}"
    )
    lines = [f"sff serve summary (model={model})", head]
    for name, f in summary["functions"].items():
        lines.append(
            f"{name[:16]:<16} {f['invocations']:>6} {f['cold_starts']:>5} {f['errors']:>4} "
            f"{f['throttled']:>4} {_num(f['p50_ms']):>8} {_num(f['p95_ms']):>8} "
            f"{_num(f['avg_init_ms']):>8} {_num(f['avg_init_alone_ms']):>8} "
            f"{_num(f['avg_init_contended_ms']):>9} {f['gb_seconds']:>10.4f} "
            f"{f['cost_usd']:>12.9f}"
        )
    total, prices = summary["total"], summary["prices"]
    lines.append(
        f"{'total':<16} {total['invocations']:>6} {total['cold_starts']:>5} {'':>4} {'':>4} "
        f"{'':>8} {'':>8} {'':>8} {'':>8} {'':>9} {total['gb_seconds']:>10.4f} "
        f"{total['cost_usd']:>12.9f}"
    )
    most = max((f["most_starting_at_once"] for f in summary["functions"].values()), default=0)
    lines.append(
        f"init: alone = no other instance starting; contended = others starting too (up to "
        f"{most} at once on {summary['host']['cpus']} CPUs)"
    )
    lines.append(
        f"prices (examples, not quotes): {prices['per_million_invocations']} USD per million "
        f"invocations, {prices['per_gb_second']} USD per GB-second"
    )
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
