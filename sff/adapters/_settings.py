"""Adapter settings: environment variables, overridden by `sff.adapters.configure`.

Read on every invocation (a dict lookup or two), so one artifact behaves as its
environment says without a redeploy of the code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sff.inbound import DEFAULT_MAX_BODY_BYTES, env_max_body

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Settings", "configure", "current", "env_max_body", "reset"]

TRUE = {"1", "true", "yes", "on"}

_overrides: dict[str, Any] = {}


@dataclass(frozen=True)
class Settings:
    cors_origins: frozenset[str]  # empty: CORS off; "*": any origin
    max_body_bytes: int
    resident: bool

    def origin_allowed(self, origin: str | None) -> bool:
        if not origin or not self.cors_origins:
            return False
        return "*" in self.cors_origins or origin in self.cors_origins


def configure(
    *,
    cors_origins: Iterable[str] | str | None = None,
    max_body_bytes: int | None = None,
    resident: bool | None = None,
) -> None:
    """Set adapter options in code; anything left as None keeps its environment value.

    ``cors_origins``: origins allowed to call (``"*"`` for any, ``()`` to turn CORS off);
    env ``SFF_CORS_ORIGINS`` (comma-separated). ``max_body_bytes``: request body cap
    (env ``SFF_MAX_BODY_BYTES``, default 6 MB). ``resident``: env ``SFF_RESIDENT=1``.
    """
    if cors_origins is not None:
        _overrides["cors_origins"] = parse_origins(cors_origins)
    if max_body_bytes is not None:
        if max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be positive")
        _overrides["max_body_bytes"] = max_body_bytes
    if resident is not None:
        _overrides["resident"] = resident


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
    )


def parse_origins(value: Iterable[str] | str) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(o.strip().rstrip("/") for o in items if o.strip())
