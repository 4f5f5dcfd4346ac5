"""The public root is small and explicit: `sff.__all__` is pinned, and every name resolves."""

from __future__ import annotations

import inspect

import sff

PUBLIC = [
    "Backend",
    "Batch",
    "Circuit",
    "ConfigError",
    "ContractError",
    "DeadlineError",
    "DeclarationError",
    "ExpressionError",
    "Fallback",
    "Function",
    "InputError",
    "Meta",
    "Paginate",
    "PlanError",
    "Result",
    "Retry",
    "SffError",
    "SourceError",
    "SourceMeta",
    "call",
]


def test_all_is_pinned_exactly() -> None:
    assert sff.__all__ == PUBLIC


def test_every_public_name_resolves() -> None:
    for name in sff.__all__:
        assert getattr(sff, name) is not None, name


def test_no_other_public_names_leak_from_the_root() -> None:
    leaked = {
        name
        for name, value in vars(sff).items()
        if not name.startswith("_") and name not in PUBLIC and not inspect.ismodule(value)
    }
    assert leaked == set()


def test_public_errors_share_one_root() -> None:
    errors = [getattr(sff, n) for n in PUBLIC if n.endswith("Error")]
    assert all(issubclass(e, sff.SffError) for e in errors)
