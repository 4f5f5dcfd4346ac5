"""The official JMESPath compliance suite, run directly and end to end through `invoke`.

The suite (jmespath/jmespath.test) lives outside the repository, in
``<repo>/../shared/jmespath-compliance/*.json``: third-party data, not copied in. Every case
passes, except the ones sff rejects by design, each listed in `REJECTED` with the reason.

Three ways in, each checked against the suite's answer:

- directly: ``compile_expr(expression).search(given)``;
- through `Function.invoke`, every name the expression reads a `call()` source answering
  ``given[name]`` (the way data really reaches a shape), where the names can be sources;
- through `Function.invoke`, the document as input: ``input.doc | (expression)``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from sff import ExpressionError, Function, PlanError, call
from sff.expr import ROOT_READS, EvaluationError, Where, compile_expr
from sff.plan import RESERVED

SUITE = Path(__file__).resolve().parent.parent.parent / "shared" / "jmespath-compliance"

if not SUITE.is_dir():
    pytest.skip(f"the compliance suite is not at {SUITE}", allow_module_level=True)

# Rejected by design: the plan refuses an expression that reads the context as a whole
# (`@`, `*`, or an index, slice, filter or flatten at the top), since it would depend on
# every source, or on the context being an array, which it never is.
_WHOLE = "reads the whole context (`@` at the top)"
_EVERY = "projects over every value of the context (`*` at the top)"
_ARRAY = "reads the context as an array (index, slice, filter or flatten at the top)"
REJECTED: dict[str, str] = {  # case id (file:group:case): reason; the expression follows
    "current:0:0": _WHOLE,  # @
    "filters:1:0": _EVERY,  # *[?[0] == `0`]
    "functions:0:15": _WHOLE,  # avg(@)
    "functions:0:43": _WHOLE,  # length(@)
    "functions:0:78": _WHOLE,  # type(@)
    "functions:0:135": _WHOLE,  # sort(@)
    "indices:2:0": _ARRAY,  # [0]
    "indices:2:1": _ARRAY,  # [1]
    "indices:2:2": _ARRAY,  # [2]
    "indices:2:3": _ARRAY,  # [-1]
    "indices:2:4": _ARRAY,  # [-2]
    "indices:2:5": _ARRAY,  # [-3]
    "multiselect:9:0": _EVERY,  # [[*],*]
    "multiselect:10:0": _ARRAY,  # [[*]]
    "slice:2:0": _ARRAY,  # [:]
    "slice:2:1": _ARRAY,  # [:2].a
    "slice:2:2": _ARRAY,  # [::-1].a
    "slice:2:3": _ARRAY,  # [:2].b
    "syntax:5:0": _EVERY,  # *
    "syntax:5:1": _EVERY,  # *.*
    "syntax:5:2": _EVERY,  # *.foo
    "syntax:5:3": _EVERY,  # *[0]
    "syntax:6:0": _ARRAY,  # []
    "syntax:7:0": _ARRAY,  # [0]
    "syntax:7:1": _ARRAY,  # [*]
    "syntax:7:3": _EVERY,  # *.["0"]
    "syntax:7:4": _ARRAY,  # [*].bar
    "syntax:7:5": _ARRAY,  # [*][0]
    "syntax:10:20": _EVERY,  # {"\\":{" ":*}}
    "syntax:12:15": _ARRAY,  # [?"\\">`"foo"`]
    "syntax:12:16": _ARRAY,  # [?"\\" > `"foo"`]
    "syntax:15:0": _EVERY,  # *||*|*|*
    "syntax:15:1": _EVERY,  # *[]||[*]
    "syntax:15:2": _EVERY,  # [*.*]
    "wildcard:2:0": _EVERY,  # *.bar
    "wildcard:3:0": _EVERY,  # *
    "wildcard:3:1": _EVERY,  # *.sub1
    "wildcard:3:2": _EVERY,  # *.*
    "wildcard:3:3": _EVERY,  # *.*.foo[]
    "wildcard:3:4": _EVERY,  # *.sub1.foo
    "wildcard:5:0": _ARRAY,  # [*]
    "wildcard:5:1": _ARRAY,  # [*].bar
    "wildcard:5:2": _ARRAY,  # [*].notbar
    "wildcard:16:0": _EVERY,  # *[0]
}

# Errors the spec raises while parsing; sff raises them when the function is declared.
_STATIC = {"syntax", "invalid-arity", "unknown-function"}


def _load() -> list[tuple[str, Any, dict[str, Any]]]:
    cases = []
    for path in sorted(SUITE.glob("*.json")):
        for g, group in enumerate(json.loads(path.read_text())):
            for c, case in enumerate(group["cases"]):
                if "result" in case or "error" in case:
                    cases.append((f"{path.stem}:{g}:{c}", group["given"], case))
    return cases


CASES = _load()


def test_the_whole_suite_is_there() -> None:
    files = {cid.split(":")[0] for cid, _, _ in CASES}
    assert len(files) == 16 and len(CASES) == 902


def same(got: Any, want: Any) -> bool:
    """JSON sameness: numbers by value, booleans apart from numbers, members in full."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return got == want
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(map(same, got, want))
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    return type(got) is type(want) and got == want


def _rejection(names: frozenset[str]) -> str | None:
    marker = sorted(names & ROOT_READS.keys())
    return {"@": _WHOLE, "*": _EVERY, "[]": _ARRAY}[marker[0]] if marker else None


def _check(case: dict[str, Any], run: Callable[[], Any]) -> None:
    """``run`` against the suite's answer: a result, or an error of the expected kind."""
    if "error" in case:
        with pytest.raises((ExpressionError, EvaluationError)) as caught:
            run()
        if case["error"] in _STATIC:
            assert isinstance(caught.value, ExpressionError), caught.value
        return
    got = run()
    assert same(got, case["result"]), f"got {got!r}, want {case['result']!r}"


@pytest.mark.parametrize(("cid", "given", "case"), CASES, ids=[c[0] for c in CASES])
def test_compliance_directly(cid: str, given: Any, case: dict[str, Any]) -> None:
    expression = case["expression"]
    try:
        expr = compile_expr(expression, Where("compliance", "shape"))
    except ExpressionError:
        expr = None
    reason = None if expr is None else _rejection(expr.names)
    assert REJECTED.get(cid) == reason, f"{expression!r}: {reason}"
    # The plan refuses a rejected one in a function; evaluated on its own it is still right.
    _check(case, lambda: compile_expr(expression, Where("c", "shape")).search(given))


def _invoke(shape: str, sources: dict[str, Any], doc: Any) -> Any:
    def answer(value: Any) -> Callable[[], Coroutine[Any, Any, Any]]:
        async def source() -> Any:
            return value

        return source

    fn = Function(
        "compliance", sources={n: call(answer(v)) for n, v in sources.items()}, shape=shape
    )
    return asyncio.run(fn.invoke({"doc": doc})).data


def _reads_source_names(case: dict[str, Any]) -> bool:
    """Whether every name the expression reads could be a source (`"foo bar"` cannot)."""
    try:
        names = compile_expr(case["expression"], Where("compliance", "shape")).names
    except ExpressionError:
        return True
    return all(n.isidentifier() and n not in RESERVED for n in names - ROOT_READS.keys())


SOURCED = [c for c in CASES if _reads_source_names(c[2])]


@pytest.mark.parametrize(("cid", "given", "case"), SOURCED, ids=[c[0] for c in SOURCED])
def test_compliance_through_invoke_with_sources(cid: str, given: Any, case: dict[str, Any]) -> None:
    try:
        expr = compile_expr(case["expression"], Where("compliance", "shape"))
    except ExpressionError:
        _check(case, lambda: _invoke(case["expression"], {}, None))
        return
    if cid in REJECTED:
        with pytest.raises(PlanError, match="name the sources you need"):
            _invoke(case["expression"], {}, None)
        return
    sources = {n: given.get(n) if isinstance(given, dict) else None for n in expr.names}
    _check(case, lambda: _invoke(case["expression"], sources, None))


@pytest.mark.parametrize(("cid", "given", "case"), CASES, ids=[c[0] for c in CASES])
def test_compliance_through_invoke_with_input(cid: str, given: Any, case: dict[str, Any]) -> None:
    _check(case, lambda: _invoke(f"input.doc | ({case['expression']})", {}, given))
