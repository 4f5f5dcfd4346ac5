"""sff: Serverless-For-Frontend orchestration functions.

Declare a `Function` over `Backend` sources; sff infers the plan, fans out, retries,
falls back, reshapes with JMESPath and answers in your pydantic contract.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING  # private: the root exports `__all__` only

from sff.errors import (
    ConfigError,
    ContractError,
    DeadlineError,
    DeclarationError,
    ExpressionError,
    InputError,
    PlanError,
    SffError,
    SourceError,
)
from sff.function import Function
from sff.result import Meta, Result, SourceMeta
from sff.spec import Backend, Circuit, Fallback, Retry, call

if _TYPE_CHECKING:
    from sff.batch import Batch
    from sff.paginate import Paginate

_LAZY = {"Batch": "sff.batch", "Paginate": "sff.paginate"}
"""Exported, but imported on first use: a function without `batch=` or `paginate=` never
loads them, and every cold start pays for each module it loads (`tests/test_import_cost.py`)."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sff' has no attribute {name!r}")


__all__ = [
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
