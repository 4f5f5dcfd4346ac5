"""The degradation matrix's cells for ``propagate=``: a source failing with a status it
propagates must make that status, naming the source, the answer (not a 502, not a 200)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sff.errors import SffError
from sff.propagate import PropagatedError

if TYPE_CHECKING:
    from sff.function import Function
    from sff.result import Result


def propagates(fn: Function, failing: tuple[str, ...], status: int) -> bool:
    """Whether a failing source declares ``status`` in its ``propagate=``."""
    return any(status in fn.plan.nodes[s].source.options.propagate for s in failing)


def expect_propagated(
    fn: Function, failing: tuple[str, ...], answer: Result | SffError, status: int
) -> None:
    """A source that propagates ``status`` and answered it: that status is the answer."""
    if isinstance(answer, PropagatedError) and answer.status == status and answer.source in failing:
        return
    got = f"{answer.status} {answer.code}" if isinstance(answer, SffError) else "200"
    from sff.testing.matrix import DegradationFailure

    raise DegradationFailure(
        f"function {fn.name!r}: {' and '.join(failing)} answered {status}, which it "
        f"propagates, but the answer was {got}, not {status} naming that source"
    )
