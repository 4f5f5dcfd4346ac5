"""The command line of ``sff serve`` and the settings it becomes."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

# Example list prices (an x86 Lambda in us-east-1 at the time of writing): a starting point
# for comparing the two models, not a quote. Pass your platform's own with the flags.
EXAMPLE_PRICE_PER_MILLION = 0.20
EXAMPLE_PRICE_PER_GB_SECOND = 0.0000166667


@dataclass(frozen=True)
class Options:
    root: Path
    model: str = "resident"
    host: str = "127.0.0.1"
    port: int = 8000
    idle_timeout: float = 60.0
    max_instances: int = 2 * (os.cpu_count() or 1)
    memory_mb: int = 128
    billing_granularity_ms: int = 1
    queue_timeout: float | None = None
    price_per_million: float = EXAMPLE_PRICE_PER_MILLION
    price_per_gb_second: float = EXAMPLE_PRICE_PER_GB_SECOND
    reload: bool = False
    allow_hosts: tuple[str, ...] = ()
    queue: int = 0  # 0: the default, see `queue_depth`
    head_timeout: float = 5.0
    body_timeout: float = 10.0
    keep_alive: float = 5.0

    @property
    def queue_depth(self) -> int:
        """Requests that may wait for a busy function's instances; more are a 503 at once.
        Resident instances free up in milliseconds, so many may wait; a destroy instance is
        a whole new process, so few."""
        if self.queue:
            return self.queue
        return self.max_instances * (64 if self.model == "resident" else 4)

    @property
    def wait_limit(self) -> float:
        """How long a request may wait for a free instance before a 503. A resident
        instance frees up within milliseconds, so waiting is cheap; a destroy instance is
        a new process, so over capacity the caller is told to come back instead."""
        if self.queue_timeout is not None:
            return self.queue_timeout
        return 10.0 if self.model == "resident" else 1.0


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--model",
        choices=("destroy", "resident"),
        default="resident",
        help="destroy: a fresh process per request; resident: warm instances reused (default)",
    )
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    add(
        "--idle-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="reclaim a resident instance idle this long (default 60)",
    )
    add(
        "--max-instances",
        type=_positive,
        default=2 * (os.cpu_count() or 1),
        metavar="N",
        help="instances per function at most (default 2 x cores)",
    )
    add(
        "--memory",
        type=_positive,
        default=128,
        metavar="MB",
        help="configured memory, for the report and GB-seconds (default 128)",
    )
    add(
        "--billing-granularity",
        type=_positive,
        default=1,
        metavar="MS",
        help="billed duration is rounded up to this (default 1 ms; e.g. 100)",
    )
    add(
        "--queue-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait this long for a free instance, then 503 (default: resident 10, destroy 1)",
    )
    add(
        "--price-per-million",
        type=float,
        default=EXAMPLE_PRICE_PER_MILLION,
        metavar="USD",
        help=f"price per million invocations (example default {EXAMPLE_PRICE_PER_MILLION})",
    )
    add(
        "--price-per-gb-second",
        type=float,
        default=EXAMPLE_PRICE_PER_GB_SECOND,
        metavar="USD",
        help=f"price per GB-second (example default {EXAMPLE_PRICE_PER_GB_SECOND})",
    )
    add(
        "--queue",
        type=_positive,
        default=None,
        metavar="N",
        help="requests that may wait for a function's busy instances before 503s at once "
        "(default: resident 64, destroy 4, per instance)",
    )
    add(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also answer requests whose Host is HOST (repeatable; default: localhost, "
        "127.0.0.1, [::1] and the bound address only)",
    )
    add(
        "--head-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="close a connection whose request head is not complete in time (default 5)",
    )
    add(
        "--body-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="answer 408 when a request body takes longer than this to arrive (default 10)",
    )
    add(
        "--keep-alive",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="close an idle keep-alive connection after this long (default 5)",
    )
    add("--reload", action="store_true", help="re-read the functions when a .py file changes")
    add("--root", type=Path, default=None, help="the project (default: found from here)")


def from_args(args: argparse.Namespace, root: Path) -> Options:
    return Options(
        root=root,
        model=args.model,
        host=args.host,
        port=args.port,
        idle_timeout=args.idle_timeout,
        max_instances=args.max_instances,
        memory_mb=args.memory,
        billing_granularity_ms=args.billing_granularity,
        queue_timeout=args.queue_timeout,
        price_per_million=args.price_per_million,
        price_per_gb_second=args.price_per_gb_second,
        reload=args.reload,
        allow_hosts=tuple(args.allow_host),
        queue=args.queue or 0,
        head_timeout=args.head_timeout,
        body_timeout=args.body_timeout,
        keep_alive=args.keep_alive,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value
