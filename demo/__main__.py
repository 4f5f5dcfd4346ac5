"""Quickstart: ``python -m demo`` runs every example function against the demo backend.

It starts two demo backends on free loopback ports (one for USERS_API, one for TODOS_API),
discovers the functions the way `sff` does, and runs each one: the answers, a timing
waterfall per invocation, a failure and a rejected input. Then the todos API goes down
and the dashboard answers degraded: from the fallback cache, else from its static value.
Exits 0 when every case answered as expected.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.backend import serve_in_thread
from sff import SffError
from sff.function import Function
from sff.project import load_project
from sff.waterfall import render_waterfall

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    title: str
    function: str
    input: dict[str, Any]
    status: int = 200
    degraded: tuple[str, ...] = ()
    check: Callable[[Any], bool] = lambda data: True


CASES = [
    Case(
        "the home page of user 1",
        "dashboard",
        {"user_id": 1},
        check=lambda d: d["user"]["id"] == 1 and d["open_count"] == len(d["open"]),
    ),
    Case(
        "a todo with its comments and their authors (each, batched)",
        "todo_detail",
        {"todo_id": 37},
        check=lambda d: all(c["author"] for c in d["comments"]),
    ),
    Case(
        "one user's activity, every page of a cursor-paged list (paginate)",
        "activity_feed",
        {"user_id": 3},
        check=lambda d: d["complete"] and d["count"] == len(d["events"]) > 20,
    ),
    Case(
        "page 2 of the open todos, 5 per page",
        "todo_list",
        {"done": False, "page": 2, "page_size": 5},
        check=lambda d: len(d["items"]) == 5 and d["has_next"],
    ),
    Case(
        "compose dashboard, then e-mail the high-priority digest (call)",
        "send_digest",
        {"user_id": 4},
        check=lambda d: len(d["items"]) == 2 and d["notification"]["status"] == "queued",
    ),
    Case(
        "failure: a todo that does not exist (its 404 propagated: not_found)",
        "todo_detail",
        {"todo_id": 9999},
        status=404,
        check=lambda d: (
            d["error"]["code"] == "not_found" and d["error"]["source"] in ("todo", "comments")
        ),
    ),
    Case(
        "rejected: a page size over the limit (400 naming the field)",
        "todo_list",
        {"page_size": 500},
        status=400,
        check=lambda d: d["error"]["field"] == "page_size",
    ),
]


OUTAGE = [
    Case(
        "degraded: the todos API is down, user 1's todos come from the fallback cache",
        "dashboard",
        {"user_id": 1},
        degraded=("todos",),
        check=lambda d: d["open_count"] > 0 and d["user"]["id"] == 1,
    ),
    Case(
        "degraded: nothing cached for user 2, the static fallback stands in",
        "dashboard",
        {"user_id": 2},
        degraded=("todos",),
        check=lambda d: d["open"] == [] and d["user"]["id"] == 2,
    ),
]


def main() -> int:
    project = load_project(ROOT)
    if project.errors:
        for error in project.errors:
            print(f"cannot import {error.module}: {error.error}", file=sys.stderr)
        return 1
    functions = {found.name: found.function for found in project.functions}
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    started, passed = time.perf_counter(), 0

    def run_all(cases: list[Case]) -> int:
        return sum(run_case(case, functions[case.function], color) for case in cases)

    with tempfile.TemporaryDirectory() as tmp, serve_in_thread() as users_url:
        cache = f"sqlite://{Path(tmp) / 'cache.sqlite3'}"  # a fresh fallback cache per run
        with serve_in_thread() as todos_url, environment(users_url, todos_url, cache):
            print(f"demo backends: users {users_url}, todos {todos_url}\n")
            passed += run_all(CASES)
        print(f"── the todos API at {todos_url} is now down\n")
        with environment(users_url, todos_url, cache):
            passed += run_all(OUTAGE)
    seconds, total = time.perf_counter() - started, len(CASES) + len(OUTAGE)
    print(f"{passed}/{total} cases answered as expected in {seconds:.1f}s")
    return 0 if passed == total else 1


def run_case(case: Case, fn: Function, color: bool) -> bool:
    print(f"── {case.title}\n   sff invoke {fn.name} --input '{json.dumps(case.input)}'")
    status, data, meta = asyncio.run(answer(fn, case.input))
    print(f"   → {status} {short(data)}")
    if meta is not None and meta.sources:
        print(_indent(render_waterfall(meta, fn.plan, color=color, status=status)))
    problems = expectations(case, status, data, meta)
    print(f"   {'as expected' if not problems else 'UNEXPECTED: ' + '; '.join(problems)}\n")
    return not problems


async def answer(fn: Function, data: dict[str, Any]) -> tuple[int, Any, Any]:
    try:
        result = await fn.invoke(data)
    except SffError as exc:
        return exc.status, exc.to_dict(), exc.meta
    return result.status, result.json(), result.meta


def expectations(case: Case, status: int, data: Any, meta: Any) -> list[str]:
    problems = []
    if status != case.status:
        problems.append(f"status {status}, expected {case.status}")
    degraded = tuple(meta.degraded) if meta is not None else ()
    if status == 200 and degraded != case.degraded:
        problems.append(f"degraded {list(degraded)}, expected {list(case.degraded)}")
    if not problems:
        try:
            ok = case.check(data)
        except (KeyError, TypeError, IndexError) as exc:
            ok, problems = False, [f"answer lacks {exc}"]
        if not ok and not problems:
            problems.append("the answer's values are not the expected ones")
    return problems


@contextmanager
def environment(users: str, todos: str, cache: str) -> Iterator[None]:
    values = {"USERS_API": users, "TODOS_API": todos, "SFF_CACHE_URL": cache}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def short(data: Any, limit: int = 150) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
