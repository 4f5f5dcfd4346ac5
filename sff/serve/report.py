"""One invocation as the platform saw it: the record, its report line and its headers."""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

CPUS = os.cpu_count() or 1


@dataclass
class Invocation:
    request_id: str
    function: str
    method: str
    path: str
    status: int = 0
    instance: str = "-"
    cold: bool = False
    init_ms: float = 0.0  # the cold start the caller waited for (0 when warm)
    starting_together: int = 0  # instances starting at once during that cold start
    cpus: int = CPUS
    duration_ms: float = 0.0  # the function's run inside the instance
    latency_ms: float = 0.0  # what the caller waited, gateway to gateway
    billed_ms: int = 0
    memory_mb: int = 0
    max_memory_mb: float = 0.0
    degraded: list[str] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def gb_seconds(self) -> float:
        return self.billed_ms / 1000 * self.memory_mb / 1024

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def billed(init_ms: float, duration_ms: float, granularity_ms: int) -> int:
    """Init plus run time, rounded up to the billing granularity (as platforms that bill
    the init phase do)."""
    total = init_ms + duration_ms
    return max(granularity_ms, math.ceil(total / granularity_ms - 1e-9) * granularity_ms)


def report_line(inv: Invocation) -> str:
    """A platform-style REPORT line: tab-separated ``Name: value`` fields."""
    fields = [
        f"REPORT RequestId: {inv.request_id}",
        f"Function: {inv.function}",
        f"Instance: {inv.instance}",
        f"Start: {_start(inv)}",
        f"Status: {inv.status}",
    ]
    if inv.cold:
        fields.append(f"Init Duration: {inv.init_ms:.2f} ms")
        fields.append(
            f"Init Concurrency: {inv.starting_together} starting at once on {inv.cpus} CPUs"
        )
    fields += [
        f"Duration: {inv.duration_ms:.2f} ms",
        f"Billed Duration: {inv.billed_ms} ms",
        f"Memory Size: {inv.memory_mb} MB",
        f"Max Memory Used: {round(inv.max_memory_mb)} MB",
        f"Degraded: {','.join(inv.degraded) or '-'}",
    ]
    if inv.error:
        fields.append(f"Error: {inv.error}")
    return "\t".join(fields)


def _start(inv: Invocation) -> str:
    if inv.instance == "-":
        return "-"  # refused or failed before any instance ran
    return "cold" if inv.cold else "warm"


def platform_headers(inv: Invocation, server_timing: str | None) -> dict[str, str]:
    """What the platform adds to the function's own headers."""
    timing = [f'init;dur={inv.init_ms:.1f};desc="cold start"'] if inv.cold else []
    timing += [server_timing] if server_timing else []
    headers = {
        "x-request-id": inv.request_id,
        "x-sff-cold-start": "true" if inv.cold else "false",
        "x-sff-instance": inv.instance,
        "x-sff-billed-duration-ms": str(inv.billed_ms),
        "x-sff-max-memory-mb": str(round(inv.max_memory_mb)),
    }
    if timing:
        headers["server-timing"] = ", ".join(timing)
    return headers
