"""JMESPath, compiled once at declaration: expressions, `{placeholder}` templates, custom functions.

Every expression is evaluated over one context ``{"input": ..., <source>: ..., "item": ...}``.
`Expr.names` holds the context keys an expression starts from: the plan derives the
dependency graph from them, so nothing is wired by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath import exceptions as jexc
from jmespath import functions as jfun
from jmespath.visitor import Options, TreeInterpreter

from sff._jmes import Engine, Run, compile_node
from sff.errors import ExpressionError, InvocationError

WHOLE_CONTEXT = "@"  # marker in `Expr.names` for an expression that reads the whole context


class EvaluationError(InvocationError):
    """An expression failed on the data it was given (e.g. ``length(null)``)."""

    code = "expression_failed"
    status = 502


class SffFunctions(jfun.Functions):
    """The functions a BFF needs and JMESPath lacks. Documented in the README cheat sheet."""

    @jfun.signature({"types": []}, {"types": []})
    def _func_default(self, value: Any, fallback: Any) -> Any:
        """``default(team.name, 'none')``: the fallback when the value is null."""
        return fallback if value is None else value

    @jfun.signature({"types": [], "variadic": True})
    def _func_coalesce(self, *values: Any) -> Any:
        """``coalesce(a, b, c)``: the first argument that is not null."""
        return next((v for v in values if v is not None), None)

    @jfun.signature({"types": ["array", "null"]}, {"types": ["string"]})
    def _func_index_by(self, items: list[Any] | None, key: str) -> dict[str, Any]:
        """``index_by(users, 'id')``: an object keyed by each item's key (as a string)."""
        return {_key(item.get(key)): item for item in items or [] if isinstance(item, dict)}

    @jfun.signature({"types": ["array", "null"]}, {"types": ["string"]})
    def _func_group_by(self, items: list[Any] | None, key: str) -> dict[str, list[Any]]:
        """``group_by(todos, 'user_id')``: an object of arrays, one per key value."""
        groups: dict[str, list[Any]] = {}
        for item in items or []:
            if isinstance(item, dict):
                groups.setdefault(_key(item.get(key)), []).append(item)
        return groups

    @jfun.signature(
        {"types": ["array", "null"]},
        {"types": ["array", "null"]},
        {"types": ["string"]},
        {"types": ["string"]},
        {"types": ["string"]},
    )
    def _func_join_on(
        self, left: list[Any] | None, right: list[Any] | None, lkey: str, rkey: str, into: str
    ) -> list[Any]:
        """``join_on(todos, users, 'user_id', 'id', 'owner')``: each left item gains the
        matching right item (or null) under ``into``."""
        index = self._func_index_by(right, rkey)
        return [
            {**item, into: index.get(_key(item.get(lkey)))} if isinstance(item, dict) else item
            for item in left or []
        ]

    @jfun.signature({"types": ["object", "null"]}, {"types": ["array"]})
    def _func_pick(self, obj: dict[str, Any] | None, keys: list[Any]) -> dict[str, Any] | None:
        """``pick(user, ['id', 'name'])``: only the named keys of an object."""
        # Keys that are not text can name no JSON member (and may not even be hashable).
        return None if obj is None else {k: obj[k] for k in keys if isinstance(k, str) and k in obj}


def truthy(value: Any) -> bool:
    """JMESPath truth: only null, false and empty strings, arrays and objects are false
    (unlike Python, 0 is true)."""
    return not (value is None or value is False or value in ("", [], {}))


def _key(value: Any) -> str:
    # JSON object keys are strings; 7 and "7" must meet in a join.
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


_FUNCTIONS = SffFunctions()
_INTERPRETER = TreeInterpreter(Options(custom_functions=_FUNCTIONS))
_FUNCTION_TABLE: dict[str, Any] = _FUNCTIONS.FUNCTION_TABLE
_ENGINE = Engine(_INTERPRETER, _FUNCTIONS)


@dataclass(frozen=True)
class Where:
    """Where an expression was declared, for messages: function and source/field."""

    function: str
    place: str


@dataclass(frozen=True, eq=False)
class Expr:
    text: str
    names: frozenset[str]
    where: Where
    _ast: Any = field(repr=False)
    _run: Run = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_run", compile_node(self._ast, _ENGINE))

    def search(self, context: Mapping[str, Any]) -> Any:
        try:
            return self._run(context)
        except jexc.JMESPathError as exc:
            raise EvaluationError(
                f"function {self.where.function!r}, {self.where.place}: "
                f"expression `{self.text}` failed: {_reason(exc)}",
                function=self.where.function,
                where=self.where.place,
                expression=self.text,
            ) from None


def compile_expr(text: str, where: Where, *, offset: int = 0, shown: str | None = None) -> Expr:
    """Compile one expression; a mistake raises ExpressionError with a caret under it.

    ``offset`` and ``shown`` place the caret when the expression sits inside a template.
    """
    shown = text if shown is None else shown
    if not text.strip():
        raise _error("empty expression", where, shown, offset)
    try:
        ast = jmespath.compile(text).parsed
    except jexc.ParseError as exc:
        raise _error(_reason(exc), where, shown, offset + (exc.lex_position or 0)) from None
    except jexc.JMESPathError as exc:
        raise _error(_reason(exc), where, shown, offset) from None
    _check_functions(ast, where, shown, offset)
    return Expr(text, frozenset(_root_names(ast)), where, ast)


def _error(reason: str, where: Where, shown: str, column: int | None) -> ExpressionError:
    return ExpressionError(
        reason, function=where.function, where=where.place, expression=shown, column=column
    )


def _reason(exc: jexc.JMESPathError) -> str:
    if isinstance(exc, jexc.ParseError):
        token = exc.token_value
        return f"{exc.msg} (at {token!r})" if token not in (None, "") else exc.msg
    return str(exc).split("\n", 1)[0]


def _check_functions(ast: Any, where: Where, shown: str, offset: int) -> None:
    """Unknown functions and wrong argument counts are declaration errors, not runtime ones."""
    for node in _walk(ast):
        if node["type"] != "function_expression":
            continue
        name, args = node["value"], len(node["children"])
        spec = _FUNCTION_TABLE.get(name)
        if spec is None:
            raise _error(f"unknown function {name}()", where, shown, offset)
        sig = spec["signature"]
        variadic = bool(sig) and sig[-1].get("variadic", False)
        # A variadic parameter still needs one argument (JMESPath checks so when it runs).
        if args < len(sig) or (not variadic and args > len(sig)):
            raise _error(
                f"{name}() takes {len(sig)}{'+' if variadic else ''} arguments, got {args}",
                where,
                shown,
                offset,
            )


def _walk(node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return []
    found = [node]
    for child in node.get("children", []):
        found.extend(_walk(child))
    return found


# Nodes whose first child is evaluated where the node is, and the rest against its result.
_LEFT_ONLY = {
    "subexpression",
    "index_expression",
    "projection",
    "value_projection",
    "filter_projection",
    "pipe",
}
_NOTHING = {"literal", "index", "slice", "expref", "field_ref"}


def _root_names(node: Any) -> set[str]:
    """The context keys an expression reads from the root (its dependencies)."""
    if not isinstance(node, dict):
        return set()
    kind = node["type"]
    if kind == "field":
        return {node["value"]}
    if kind in ("current", "identity"):
        return {WHOLE_CONTEXT}
    if kind in _NOTHING:
        return set()
    children = node.get("children", [])
    if kind in _LEFT_ONLY:
        children = children[:1]
    names: set[str] = set()
    for child in children:
        names |= _root_names(child)
    return names


# -- templates: "/users/{input.user_id}/todos" -------------------------------------------


@dataclass(frozen=True)
class Template:
    """A string with ``{expr}`` placeholders; literal parts kept as-is."""

    text: str
    parts: tuple[str | Expr, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset().union(*(p.names for p in self.parts if isinstance(p, Expr)))

    def render(self, context: Mapping[str, Any], encode: Any) -> str:
        return "".join(
            p if isinstance(p, str) else encode(p, p.search(context)) for p in self.parts
        )


def compile_template(text: str, where: Where) -> Template:
    parts: list[str | Expr] = []
    pos = 0
    while (start := text.find("{", pos)) != -1:
        end = _closing_brace(text, start, where)
        if start > pos:
            parts.append(text[pos:start])
        inner = text[start + 1 : end]
        parts.append(compile_expr(inner, where, offset=start + 1, shown=text))
        pos = end + 1
    if "}" in text[pos:]:
        raise _error("'}' without '{'", where, text, pos + text[pos:].index("}"))
    if pos < len(text):
        parts.append(text[pos:])
    return Template(text, tuple(parts))


def _closing_brace(text: str, start: int, where: Where) -> int:
    """Index of the brace closing the one at `start`: nested braces and quotes are skipped,
    since a placeholder may itself hold a JMESPath hash or literal."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise _error("'{' is never closed", where, text, start)


# -- values: dicts/lists whose string leaves are expressions --------------------------------


@dataclass(frozen=True)
class Value:
    """A compiled query/header/body/args template: a string is an expression, a number,
    bool or null is itself, and dicts and lists nest."""

    tree: Any
    names: frozenset[str]

    def render(self, context: Mapping[str, Any]) -> Any:
        return _render(self.tree, context)


def compile_value(template: Any, where: Where) -> Value:
    tree = _compile_tree(template, where)
    return Value(tree, frozenset(_tree_names(tree)))


def _compile_tree(node: Any, where: Where) -> Any:
    if isinstance(node, str):
        return compile_expr(node, where)
    if isinstance(node, Mapping):
        return {
            str(k): _compile_tree(v, Where(where.function, f"{where.place}.{k}"))
            for k, v in node.items()
        }
    if isinstance(node, list | tuple):
        return [
            _compile_tree(v, Where(where.function, f"{where.place}[{i}]"))
            for i, v in enumerate(node)
        ]
    return node


def _tree_names(node: Any) -> set[str]:
    if isinstance(node, Expr):
        return set(node.names)
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    return set().union(*(_tree_names(c) for c in children))


def _render(node: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(node, Expr):
        return node.search(context)
    if isinstance(node, dict):
        return {k: _render(v, context) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, context) for v in node]
    return node
