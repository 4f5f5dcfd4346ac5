"""Replay a recorded case: the backends answer from the recording, the output must still
fit the contract and equal the recorded one; every recorded exchange must be used and
every request must be recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from sff.errors import SffError
from sff.function import Function
from sff.result import Result
from sff.testing.calling import ainvoke
from sff.testing.casefile import Case, Exchange, load_case
from sff.testing.diff import json_diff
from sff.testing.discover import functions_used, load_functions
from sff.testing.mock import MockBackends, MockRoute, UnmockedRequest
from sff.testing.patch import Target, callable_sources, patched_sources, with_target
from sff.testing.scrub import replay_lookup


class CaseFailure(AssertionError):
    """A recorded case no longer holds; the message says what changed and how to fix it."""


@dataclass
class Replay:
    case: Case
    answer: Result | SffError
    updated: bool = False


def find_function(case: Case, functions: Mapping[str, Function] | None = None) -> Function:
    known = functions if functions is not None else load_functions()
    if case.function not in known:
        raise CaseFailure(
            f"{case.path}: no function named {case.function!r} "
            f"(found: {', '.join(sorted(known)) or 'none'})"
        )
    return known[case.function]


def mock_exchanges(mocks: MockBackends, exchanges: list[Exchange]) -> dict[str, MockRoute]:
    """One exact route per distinct request; repeated requests answer in recorded order."""
    groups: dict[tuple[str, str, str, str], list[Exchange]] = {}
    for ex in exchanges:
        groups.setdefault((ex.backend, ex.method, ex.path, repr(ex.body)), []).append(ex)
    routes = {}
    for (backend, method, path, _), group in groups.items():
        bare, _, query = path.partition("?")
        lookups: dict[str, Any] = replay_lookup(query)
        if group[0].body is not None:
            lookups["json"] = group[0].body
        route = mocks[backend].route(method, bare, **lookups)
        route.sequence(*(_response(ex) for ex in group))
        routes[f"{backend} {method} {path}"] = route
    return routes


def _response(ex: Exchange) -> httpx.Response:
    if ex.text is not None:
        return httpx.Response(ex.status, headers=ex.headers, text=ex.text)
    return httpx.Response(ex.status, headers=ex.headers, json=ex.json)


def _replayer(key: str, values: list[Any]) -> Target:
    served = 0

    async def replay(**kwargs: Any) -> Any:
        nonlocal served
        if not values:
            raise CaseFailure(f"the case recorded no value for call source {key!r}")
        value = values[min(served, len(values) - 1)]
        served += 1
        return value

    return replay


async def areplay_case(
    case: Case | Path | str,
    fn: Function | None = None,
    *,
    functions: Mapping[str, Function] | None = None,
    update: bool = False,
) -> Replay:
    """Replay one case; raise `CaseFailure` naming what no longer holds. With ``update``,
    a changed output (or error) is written back to the case file instead."""
    case = case if isinstance(case, Case) else load_case(case)
    fn = fn or find_function(case, functions)
    with ExitStack() as stack:
        for each in functions_used([fn]):
            replace = {
                s: with_target(
                    _replayer(f"{each.name}.{s}", case.calls.get(f"{each.name}.{s}", []))
                )
                for s in callable_sources(each)
            }
            stack.enter_context(patched_sources(each, replace))
        mocks = stack.enter_context(MockBackends([fn]))
        routes = mock_exchanges(mocks, case.exchanges)
        try:
            answer = await ainvoke(fn, case.input, headers=case.headers)
        except UnmockedRequest:
            answer = None  # reported below, with every other unrecorded request
    _check_requests(case, mocks, routes)
    assert answer is not None
    replay = Replay(case, answer)
    if update:
        replay.updated = _update(case, answer)
    else:
        _check_answer(case, fn, answer)
    return replay


def replay_case(
    case: Case | Path | str,
    fn: Function | None = None,
    *,
    functions: Mapping[str, Function] | None = None,
    update: bool = False,
) -> Replay:
    """`areplay_case` for synchronous tests and the pytest items of case files."""
    return asyncio.run(areplay_case(case, fn, functions=functions, update=update))


def _check_requests(case: Case, mocks: MockBackends, routes: dict[str, MockRoute]) -> None:
    where = case.path or case.function
    if mocks.unmocked:
        lines = "\n  ".join(mocks.unmocked)
        raise CaseFailure(
            f"{where}: requests not in the recording:\n  {lines}\n"
            "the function now asks its backends something else; record the case again"
        )
    unused = [label for label, route in routes.items() if not route.called]
    if unused:
        lines = "\n  ".join(unused)
        raise CaseFailure(
            f"{where}: recorded exchanges no request used any more:\n  {lines}\n"
            "record the case again (or delete it)"
        )


def _check_answer(case: Case, fn: Function, answer: Result | SffError) -> None:
    where = case.path or case.function
    if case.error is not None:
        _check_error(case, answer)
        return
    if isinstance(answer, SffError):
        raise CaseFailure(
            f"{where}: expected an answer, got {answer.status} {answer.code}: {answer}"
        )
    if fn.contract is not None:
        try:
            fn.contract.model_validate(case.output)
        except ValidationError as exc:
            raise CaseFailure(
                f"{where}: the recorded output no longer fits contract "
                f"{fn.contract.__name__}: {exc.errors(include_url=False)[0]}"
            ) from None
    changes = json_diff(case.output, answer.json())
    if changes:
        raise CaseFailure(
            f"{where}: output differs from the recording:\n  "
            + "\n  ".join(changes)
            + "\nif the change is intended: pytest --sff-update-cases"
        )


def _check_error(case: Case, answer: Result | SffError) -> None:
    assert case.error is not None
    expected = (case.error.get("status"), case.error.get("code"))
    got = (answer.status, getattr(answer, "code", None))
    if got != expected:
        raise CaseFailure(
            f"{case.path or case.function}: expected error {expected[0]} {expected[1]}, "
            f"got {got[0]} {got[1] or 'an answer'}"
            + "\nif the change is intended: pytest --sff-update-cases"
        )


def _update(case: Case, answer: Result | SffError) -> bool:
    before = case.to_dict()
    if isinstance(answer, SffError):
        case.output = None
        case.error = {"status": answer.status, "code": answer.code, "message": answer.message}
    else:
        case.output, case.error = answer.json(), None
    if case.to_dict() == before or case.path is None:
        return False
    case.save(case.path)
    return True
