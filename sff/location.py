"""The line of the source or shape entry a declaration error is about.

A `Function(...)` call spans many lines; an error found in it should point at the entry
that is wrong (``"team": users.get(...)``, the shape key), not at ``Function(``. The
call's own file is read and parsed only when an error is raised, never on the happy path.
"""

from __future__ import annotations

import ast
import linecache
import os
import re
from typing import Any

from sff.errors import DeclarationError

_SOURCE = re.compile(r"^source '([^']+)'(?: (\w+))?((?:\.[^.\[]+|\[\d+\])*)")
_STEPS = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def locate(error: DeclarationError, file: str, line: int) -> DeclarationError:
    """Note ``file:line`` of the offending entry on ``error`` (in its text and detail)."""
    found = entry_line(file, line, error.detail.get("where"), error.detail.get("column"))
    error.location = (file, found or line)
    shown = relative(file)
    error.detail.setdefault("file", shown)
    error.detail.setdefault("line", found or line)
    error.args = (f"{shown}:{found or line}: {error.message}",)
    return error


def relative(file: str) -> str:
    try:
        path = os.path.relpath(file)
    except ValueError:
        return file
    return file if path.startswith("..") else path


def entry_line(file: str, line: int, where: Any, column: Any) -> int | None:
    call = _function_call(file, line)
    if call is None or not isinstance(where, str):
        return None
    try:
        if where.startswith("source "):
            return _source_line(call, where)
        if where == "shape" or where.startswith("shape.") or where.startswith("shape["):
            node = _keyword(call, "shape")
            return None if node is None else _walk(node, where[5:], column)
    except (LookupError, ValueError):
        return None
    return None


def _function_call(file: str, line: int) -> ast.Call | None:
    text = "".join(linecache.getlines(file))
    if not text:
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _called(node) == "Function"
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return max(calls, key=lambda c: c.lineno, default=None)


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _source_line(call: ast.Call, where: str) -> int | None:
    match = _SOURCE.match(where)
    sources = _keyword(call, "sources")
    if match is None or not isinstance(sources, ast.Dict):
        return None
    name, option, rest = match.groups()
    for key, value in zip(sources.keys, sources.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == name:
            return _option_line(value, option, rest) or key.lineno
    return None


def _option_line(value: ast.expr, option: str | None, rest: str) -> int | None:
    if not isinstance(value, ast.Call) or option is None:
        return None
    if option == "path" and value.args:
        return value.args[0].lineno
    node = _keyword(value, option)
    return None if node is None else _walk(node, rest, None)


def _walk(node: ast.expr, steps: str, column: Any) -> int:
    """Down dict keys and list items of a literal; into a string by its caret's column."""
    for key, index in _STEPS.findall(steps):
        if key and isinstance(node, ast.Dict):
            pairs = zip(node.keys, node.values, strict=True)
            node = next(v for k, v in pairs if isinstance(k, ast.Constant) and k.value == key)
        elif index and isinstance(node, ast.List | ast.Tuple):
            node = node.elts[int(index)]
        else:
            break
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and isinstance(column, int):
        return node.lineno + node.value[:column].count("\n")
    return node.lineno
