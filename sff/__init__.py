"""sff: Serverless-For-Frontend orchestration functions.

Declare a `Function` over `Backend` sources; sff infers the plan, fans out, retries,
falls back, reshapes with JMESPath and answers in your pydantic contract.
"""

from sff.batch import Batch
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
from sff.paginate import Paginate
from sff.result import Meta, Result, SourceMeta
from sff.spec import Backend, Circuit, Fallback, Retry, call

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
