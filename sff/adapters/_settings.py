"""Adapter settings: environment variables, overridden by `sff.adapters.configure`.

Read on every invocation (a dict lookup or two), so one artifact behaves as its
environment says without a redeploy of the code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from sff._record import record
from sff.inbound import DEFAULT_MAX_BODY_BYTES, env_max_body

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Settings", "configure", "current", "env_max_body", "reset"]

# Kept back from a platform's remaining time, so the answer (shape, contract, body) is out
# before the platform ends the instance. Measured by `python -m benchmarks.margin`: 16 ms
# p99 on an idle core, 109 ms p99 (580 ms max) on two cores loaded by 4 busy processes and
# other work; a 128 MB Lambda gets about 1/14 of a vCPU (16 ms -> ~225 ms). 500 ms covers
# both with room; the templates sff package writes give the platform 2 s more than the
# function's own timeout anyway, so the margin only bites when the platform's time is the
# shorter one.
DEFAULT_DEADLINE_MARGIN_MS = 500
TRUE = {"1", "true", "yes", "on"}

_overrides: dict[str, Any] = {}


@record(frozen=True)
class Settings:
    cors_origins: frozenset[str]  # empty: CORS off; "*": any origin
    max_body_bytes: int
    resident: bool
    deadline_margin_s: float = DEFAULT_DEADLINE_MARGIN_MS / 1000

    def origin_allowed(self, origin: str | None) -> bool:
        if not origin or not self.cors_origins:
            return False
        return "*" in self.cors_origins or origin in self.cors_origins


def configure(
    *,
    cors_origins: Iterable[str] | str | None = None,
    max_body_bytes: int | None = None,
    resident: bool | None = None,
    deadline_margin: float | None = None,
) -> None:
    """Set adapter options in code; anything left as None keeps its environment value.

    ``cors_origins``: origins allowed to call (``"*"`` for any, ``()`` to turn CORS off);
    env ``SFF_CORS_ORIGINS`` (comma-separated). ``max_body_bytes``: request body cap
    (env ``SFF_MAX_BODY_BYTES``, default 6 MB). ``resident``: env ``SFF_RESIDENT=1``.
    ``deadline_margin``: seconds kept back from a platform's remaining time to answer
    before the platform ends the instance (env ``SFF_DEADLINE_MARGIN_MS``, default 500).
    """
    if cors_origins is not None:
        _overrides["cors_origins"] = parse_origins(cors_origins)
    if max_body_bytes is not None:
        if max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be positive")
        _overrides["max_body_bytes"] = max_body_bytes
    if resident is not None:
        _overrides["resident"] = resident
    if deadline_margin is not None:
        if deadline_margin < 0:
            raise ValueError("deadline_margin must not be negative")
        _overrides["deadline_margin_s"] = float(deadline_margin)


def reset() -> None:
    """Forget everything set by `configure`: the environment rules again."""
    _overrides.clear()


def current() -> Settings:
    env = os.environ
    origins = _overrides.get("cors_origins")
    return Settings(
        cors_origins=parse_origins(env.get("SFF_CORS_ORIGINS", "")) if origins is None else origins,
        max_body_bytes=_overrides.get("max_body_bytes") or env_max_body(),
        resident=_overrides.get("resident", env.get("SFF_RESIDENT", "").lower() in TRUE),
        deadline_margin_s=_overrides.get("deadline_margin_s", env_margin()),
    )


def parse_origins(value: Iterable[str] | str) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(o.strip().rstrip("/") for o in items if o.strip())


def env_margin() -> float:
    raw = os.environ.get("SFF_DEADLINE_MARGIN_MS", "")
    return (int(raw) if raw.isdigit() else DEFAULT_DEADLINE_MARGIN_MS) / 1000
