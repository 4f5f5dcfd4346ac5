"""What every benchmark shares: samples, interleaved repetitions, rows and targets."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

Metrics = dict[str, float]


@dataclass(frozen=True)
class Settings:
    """How hard to run: ``smoke`` is tiny sizes and one repetition (CI only checks it runs)."""

    smoke: bool = False
    reps: int = 7

    def sizes(self, full: list[int], smoke: list[int]) -> list[int]:
        return smoke if self.smoke else full


@dataclass(frozen=True)
class Stats:
    values: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def max(self) -> float:
        return max(self.values)


@dataclass(frozen=True)
class Row:
    """One measured variant of one case, with its ratio to the case's reference."""

    bench: str
    case: str
    variant: str
    metric: str
    stats: Stats
    ratio: float | None = None
    reference: str = ""


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    limit: float
    unit: str = "x"

    @property
    def met(self) -> bool:
        return self.value <= self.limit


@dataclass
class Report:
    """What one benchmark module hands back: rows for the table, targets, free notes."""

    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        bench: str,
        case: str,
        metric: str,
        samples: Mapping[str, list[float]],
        reference: str | None = None,
    ) -> dict[str, Stats]:
        """Rows for every variant of a case; ratios are medians against ``reference``."""
        stats = {name: Stats(tuple(vals)) for name, vals in samples.items()}
        base = stats[reference].median if reference else 0.0
        for name, st in stats.items():
            ratio = st.median / base if reference and base > 0 and name != reference else None
            self.rows.append(Row(bench, case, name, metric, st, ratio, reference or ""))
        return stats


def transpose(runs: Mapping[str, list[Metrics]], metric: str) -> dict[str, list[float]]:
    return {name: [m[metric] for m in ms] for name, ms in runs.items()}


async def interleave_async(
    reps: int, variants: Mapping[str, Callable[[], Awaitable[Metrics]]], warmup: int = 1
) -> dict[str, list[Metrics]]:
    """Run every variant once per round, rotating the order, so drift hits all alike."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            await variants[name]()
    out: dict[str, list[Metrics]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(await variants[name]())
    return out


def interleave(
    reps: int, variants: Mapping[str, Callable[[], Metrics]], warmup: int = 1
) -> dict[str, list[Metrics]]:
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    out: dict[str, list[Metrics]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(variants[name]())
    return out
