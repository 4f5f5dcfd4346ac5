"""The degradation matrix: fail each source alone, then all optional sources together.

Every cell must end in either a valid contract with the failed sources marked degraded
(they have a fallback) or a clean 502 naming a failed source (it is required) - never a
crash, never an invalid contract. HTTP sources fail with 503, call sources by raising.

Happy-path data for the other sources comes from the function's recorded cases
(``tests/cases/<function>/*.json``) when there are any, else from each source's
raw-data contract (``response=``: its smallest valid value), else ``{}``.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sff.errors import SffError, SourceError
from sff.function import Function
from sff.result import Result
from sff.spec import CallSource
from sff.testing.calling import ainvoke
from sff.testing.casefile import CaseFormatError, Exchange, load_case
from sff.testing.discover import functions_used
from sff.testing.generate import minimal
from sff.testing.harness import (
    answering,
    error_response,
    failing_target,
    relative,
    value_target,
)
from sff.testing.patch import Target
from sff.testing.propagated import expect_propagated, propagates

DEFAULT_CASES = Path("tests/cases")
ALL_OPTIONAL = "all-optional"
MAX_GUESSED = 6  # 2**6 happy runs at most when guessing stand-ins
FAIL_STATUS = 503


class DegradationFailure(AssertionError):
    """A cell of the matrix crashed or answered something other than degrade-or-502."""


class NoHappyPath(Exception):
    """The function does not answer even with no source failing: the matrix cannot judge."""


@dataclass(frozen=True)
class Scenario:
    failing: tuple[str, ...]
    label: str
    status: int = FAIL_STATUS
    """What the failing HTTP sources answer: 503, or a status a source propagates."""


@dataclass
class HappyData:
    """What the sources that do not fail answer, and where it came from."""

    input: Any = None
    exchanges: list[Exchange] = field(default_factory=list)
    calls: dict[str, list[Any]] = field(default_factory=dict)
    origin: str = "generated"
    guesses: dict[tuple[str, str], Any] = field(default_factory=dict)
    """Stand-ins for sources with neither a recording nor a model, by (function, source)."""
    searched: bool = False


def scenarios(fn: Function) -> list[Scenario]:
    cells = [Scenario((name,), name) for name in fn.plan.order]
    optional = [n for n in fn.plan.order if not fn.plan.nodes[n].source.options.required]
    if len(optional) > 1:
        cells.append(Scenario(tuple(optional), ALL_OPTIONAL))
    for name in fn.plan.order:  # a propagated status is an answer of its own: one cell each
        for status in sorted(fn.plan.nodes[name].source.options.propagate):
            cells.append(Scenario((name,), f"{name}={status}", status))
    return cells


def happy_data(fn: Function, cases_dir: Path | None = DEFAULT_CASES) -> HappyData:
    """From the function's recorded cases when there are any, else generated."""
    paths = sorted((cases_dir / fn.name).glob("*.json")) if cases_dir else []
    cases = []
    for path in paths:
        try:
            case = load_case(path)
        except CaseFormatError:
            continue  # its own test item reports it
        if case.error is None:
            cases.append(case)
    if not cases:
        return HappyData(input=minimal(fn.input) if fn.input else None)
    data = HappyData(cases[0].input, origin=f"recorded case {paths[0].parent}")
    for case in cases:
        data.exchanges.extend(case.exchanges)
        for key, values in case.calls.items():
            data.calls.setdefault(key, values)
    return data


class _Answers:
    def __init__(
        self, fn: Function, failing: Iterable[str], data: HappyData, status: int = FAIL_STATUS
    ) -> None:
        self.top, self.failing, self.data, self.status = fn, set(failing), data, status

    def http(self, fn: Function, source: str, request: httpx.Request) -> httpx.Response:
        if fn is self.top and source in self.failing:
            return error_response(request, self.status)
        node = fn.plan.nodes[source]
        backend = node.source.backend.name  # type: ignore[union-attr]
        target, path = relative(request), request.url.path
        for candidates in (
            [e for e in self.data.exchanges if e.path == target],
            [e for e in self.data.exchanges if e.path.partition("?")[0] == path],
        ):
            for ex in candidates:
                if ex.backend == backend and ex.method == request.method and ex.status < 400:
                    # with its headers: an expression may read them (meta.<source>.headers)
                    return httpx.Response(
                        ex.status, headers=_replayable(ex.headers), json=ex.json, request=request
                    )
        return httpx.Response(200, json=self.generated(fn, source), request=request)

    def generated(self, fn: Function, source: str) -> Any:
        model = fn.plan.nodes[source].source.options.response
        if model is not None:
            return minimal(model)
        return self.data.guesses.get((fn.name, source), {})

    def call(self, fn: Function, source: str) -> Target | None:
        if fn is self.top and source in self.failing:
            return failing_target(fn, source)
        node = fn.plan.nodes[source]
        assert isinstance(node.source, CallSource)
        if isinstance(node.source.target, Function):
            return None  # runs for real, its own sources answered like ours
        recorded = self.data.calls.get(f"{fn.name}.{source}")
        if recorded:
            return value_target(recorded[0])
        return value_target(self.generated(fn, source))


def _replayable(headers: dict[str, str]) -> dict[str, str]:
    """Recorded headers, less the framing ones httpx sets for the JSON it is given."""
    framing = ("content-length", "content-encoding", "transfer-encoding")
    return {k: v for k, v in headers.items() if k.lower() not in framing}


def _unknown(fn: Function) -> list[tuple[str, str]]:
    """Sources whose data nothing describes: neither a recording nor a model."""
    return [
        (each.name, name)
        for each in functions_used([fn])
        for name, node in each.plan.nodes.items()
        if node.source.options.response is None
        and not (isinstance(node.source, CallSource) and isinstance(node.source.target, Function))
    ]


async def _baseline(fn: Function, data: HappyData) -> Result | SffError:
    """A happy run; for generated data, the first mix of ``{}`` and ``[]`` stand-ins (for
    sources nothing describes) with which the function answers."""
    first = await _guarded(fn, (), data)
    unknown = _unknown(fn) if data.origin == "generated" and not data.searched else []
    data.searched = True
    if isinstance(first, Result) or not unknown or len(unknown) > MAX_GUESSED:
        return first
    stand_ins: list[Any] = [{}, []]
    for mix in itertools.product(stand_ins, repeat=len(unknown)):
        data.guesses = dict(zip(unknown, mix, strict=True))
        answer = await _guarded(fn, (), data)
        if isinstance(answer, Result):
            return answer
    data.guesses = {}
    return first


async def arun_cell(
    fn: Function, failing: Iterable[str], data: HappyData, status: int = FAIL_STATUS
) -> Result | SffError:
    answers = _Answers(fn, failing, data, status)
    with answering(fn, answers.http, answers.call):
        return await ainvoke(fn, data.input)


async def acheck_degradation(
    fn: Function,
    failing: Iterable[str],
    data: HappyData | None = None,
    *,
    status: int = FAIL_STATUS,
) -> Result | SffError:
    """Fail ``failing`` sources of ``fn`` (HTTP ones answer ``status``); raise
    `DegradationFailure` unless the answer is a valid contract with them degraded, a clean
    502 naming a required one, or, for a status a source propagates, that status."""
    failing = tuple(failing)
    data = data or happy_data(fn)
    baseline = await _baseline(fn, data)
    if not isinstance(baseline, Result):
        raise NoHappyPath(
            f"function {fn.name!r} does not answer even with every source up "
            f"(data: {data.origin}): {baseline.status} {baseline.code}: {baseline.message}. "
            f"Record a case (sff record {fn.name} --input '<json>') or declare "
            "response= models on its sources"
        )
    answer = await _guarded(fn, failing, data, status)
    verdict(fn, failing, answer, status)
    return answer


def check_degradation(
    fn: Function,
    failing: Iterable[str],
    data: HappyData | None = None,
    *,
    status: int = FAIL_STATUS,
) -> Result | SffError:
    """`acheck_degradation` for synchronous tests."""
    return asyncio.run(acheck_degradation(fn, failing, data, status=status))


async def _guarded(
    fn: Function, failing: Iterable[str], data: HappyData, status: int = FAIL_STATUS
) -> Result | SffError:
    failing = tuple(failing)
    try:
        return await arun_cell(fn, failing, data, status)
    except Exception as exc:
        what = " and ".join(failing) or "nothing"
        raise DegradationFailure(
            f"function {fn.name!r} crashed when {what} failed: {type(exc).__name__}: {exc}"
        ) from exc


def verdict(
    fn: Function, failing: tuple[str, ...], answer: Result | SffError, status: int = FAIL_STATUS
) -> None:
    what = " and ".join(repr(s) for s in failing)
    if propagates(fn, failing, status):
        expect_propagated(fn, failing, answer, status)
        return
    may_fail = {s for s in failing if _may_fail(fn, s)}
    if isinstance(answer, SourceError) and answer.source in may_fail:
        return  # a clean 502 naming a required source
    if isinstance(answer, SffError):
        raise DegradationFailure(
            f"function {fn.name!r}: when {what} failed, it answered {answer.status} "
            f"{answer.code}: {answer.message}\n  {_hint(fn, failing, answer)}"
        )
    for source in failing:
        meta = answer.meta.sources[source]
        if meta.outcome not in ("degraded", "skipped") and meta.items != 0:
            raise DegradationFailure(
                f"function {fn.name!r}: source {source!r} was made to fail but ended "
                f"{meta.outcome!r}, and the answer was 200"
            )


def _may_fail(fn: Function, source: str) -> bool:
    """Required, or falling back only to a cache, which may hold nothing in a test."""
    chain = fn.plan.nodes[source].source.options.fallback
    return all(step.kind == "cache" for step in chain)


def _hint(fn: Function, failing: tuple[str, ...], error: SffError) -> str:
    if error.code == "expression_failed":
        return (
            "an expression does not handle the null or fallback value: guard it with "
            "default()/coalesce(), or add when= to the sources that need it"
        )
    if error.code == "contract_mismatch":
        return (
            "the fallback data does not fit the contract: make the field optional "
            "(`| None`) or give a Fallback.value(...) that fits"
        )
    if isinstance(error, SourceError) and error.source not in failing:
        return (
            f"source {error.source!r} is required and broke because {failing[0]!r} fell "
            f"back; give it when= (e.g. when='{failing[0]}') or a fallback"
        )
    return "give the source a fallback, or make the function answer without it"


_MATRIX: dict[Path, MatrixOptions] = {}


@dataclass(frozen=True)
class MatrixOptions:
    functions: tuple[Function, ...] | None
    cases: Path | None
    exclude: frozenset[str]


def degradation_matrix(
    functions: Iterable[Function] | None = None,
    *,
    cases: Path | str | None = None,
    exclude: Iterable[str] = (),
) -> None:
    """Call once in a ``conftest.py``: every function of the project (or those given) gets
    one test per matrix cell, collected under that conftest."""
    caller = Path(sys._getframe(1).f_globals.get("__file__", "conftest.py")).resolve()
    _MATRIX[caller] = MatrixOptions(
        None if functions is None else tuple(functions),
        None if cases is None else Path(cases),
        frozenset(exclude),
    )


def matrix_options(conftest: Path) -> MatrixOptions | None:
    return _MATRIX.get(conftest.resolve())
