"""JMESPath, compiled once at declaration: expressions, `{placeholder}` templates, custom functions.

Every expression is evaluated over one context ``{"input": ..., <source>: ..., "item": ...}``.
`Expr.names` holds the context keys an expression starts from: the plan derives the
dependency graph from them, so nothing is wired by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from jmespath import exceptions as jexc
from jmespath import functions as jfun

from sff._jmes import Engine, Failure, Refused, Run, compile_node, kind
from sff._jmes_functions import Builtins
from sff._jmes_parse import parse
from sff._record import record
from sff.errors import ExpressionError, InvocationError

# Markers in `Expr.names` for an expression that reads the context as a whole, not by name;
# the plan refuses them with the reason below (a source name is an identifier: no clash).
WHOLE_CONTEXT = "@"
EVERY_VALUE = "*"
AS_ARRAY = "[]"
ROOT_READS = {
    WHOLE_CONTEXT: "`@` at the top reads the whole context (input, meta and every source)",
    EVERY_VALUE: "`*` at the top projects over every value of the context "
    "(input, meta and every source)",
    AS_ARRAY: "an index, slice, filter, flatten or `[*]` at the top reads the context as an "
    "array, but it is an object, so the result is always null",
}


class EvaluationError(InvocationError):
    """An expression failed on the data it was given (e.g. ``length(null)``)."""

    code = "expression_failed"
    status = 502


class SffFunctions(Builtins):
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
        """``index_by(users, 'id')``: an object keyed by each item's key (see `join_key`);
        items without a usable key are left out, the last of a repeated key wins."""
        return {k: item for k, item in _keyed(items, key)}

    @jfun.signature({"types": ["array", "null"]}, {"types": ["string"]})
    def _func_group_by(self, items: list[Any] | None, key: str) -> dict[str, list[Any]]:
        """``group_by(todos, 'user_id')``: an object of arrays, one per key value; items
        without a usable key are left out."""
        groups: dict[str, list[Any]] = {}
        for k, item in _keyed(items, key):
            groups.setdefault(k, []).append(item)
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
        matching right item (or null) under ``into``; a null or missing key matches nothing."""
        index = self._func_index_by(right, rkey)
        return [
            {**item, into: index.get(join_key(item.get(lkey)))}  # type: ignore[arg-type]
            if type(item) is dict
            else item
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


def join_key(value: Any) -> str | None:
    """The key a value joins and groups by: a string is itself, a number its plain decimal
    text (so ``1``, ``1.0`` and ``"1"`` meet); null, a missing key, booleans, arrays and
    objects have none and match nothing (``true`` never meets ``"true"``)."""
    found = kind(value)
    if found == "string":
        return str(value)
    if found != "number":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _keyed(items: list[Any] | None, key: str) -> list[tuple[str, Any]]:
    pairs = []
    for item in items or []:
        if type(item) is dict and (k := join_key(item.get(key))) is not None:
            pairs.append((k, item))
    return pairs


_FUNCTIONS = SffFunctions()
_FUNCTION_TABLE: dict[str, Any] = _FUNCTIONS.FUNCTION_TABLE
_ENGINE = Engine(_FUNCTIONS)


@record(frozen=True)
class Where:
    """Where an expression was declared, for messages: function and source/field."""

    function: str
    place: str


@record(frozen=True, eq=False)
class Expr:
    text: str
    names: frozenset[str]
    where: Where
    _ast: Any = field(repr=False)
    _run: Run = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_run", compile_node(self._ast, _ENGINE))

    def search(self, context: Mapping[str, Any]) -> Any:
        """The expression's value over ``context``: JSON sharing nothing with the
        expression, or `EvaluationError`; nothing else is ever raised."""
        try:
            if type(context) is not dict and isinstance(context, Mapping):
                context = dict(context)  # the closures read plain dicts
            return self._run(context)
        except Failure as exc:
            reason = str(exc)
        except RecursionError:  # data nested deeper than Python recurses
            reason = "the data is nested too deeply"
        raise EvaluationError(
            f"function {self.where.function!r}, {self.where.place}: "
            f"expression `{self.text}` failed: {reason}",
            function=self.where.function,
            where=self.where.place,
            expression=self.text,
        )


def compile_expr(text: str, where: Where, *, offset: int = 0, shown: str | None = None) -> Expr:
    """Compile one expression; a mistake raises ExpressionError with a caret under it.

    ``offset`` and ``shown`` place the caret when the expression sits inside a template.
    """
    shown = text if shown is None else shown
    if not text.strip():
        raise _error("empty expression", where, shown, offset)
    try:
        ast = parse(text)
        return Expr(text, frozenset(_root_names(ast)), where, ast)
    except jexc.ParseError as exc:
        raise _error(_reason(exc), where, shown, offset + (exc.lex_position or 0)) from None
    except jexc.JMESPathError as exc:
        raise _error(_reason(exc), where, shown, offset) from None
    except Refused as exc:
        raise _error(exc.reason, where, shown, offset + (exc.pos or 0)) from None
    except RecursionError:
        raise _error("the expression is nested too deeply", where, shown, offset) from None


def _error(reason: str, where: Where, shown: str, column: int | None) -> ExpressionError:
    return ExpressionError(
        reason, function=where.function, where=where.place, expression=shown, column=column
    )


def _reason(exc: jexc.JMESPathError) -> str:
    if isinstance(exc, jexc.LexerError):
        return str(exc.message)
    if isinstance(exc, jexc.ParseError):
        token = exc.token_value
        return f"{exc.msg} (at {token!r})" if token not in (None, "") else exc.msg
    return str(exc).split("\n", 1)[0]


_SELF = {"current", "identity"}
_CHAINS = {"subexpression", "pipe"}  # the first step reads the context, the rest its result
_ARRAYS = {"index_expression", "projection", "filter_projection", "flatten"}
_NOTHING = {"literal", "index", "slice", "expref", "field_ref"}


def _root_names(node: Any) -> set[str]:
    """The context keys an expression reads from the root (its dependencies), or a
    `ROOT_READS` marker when it reads the context as a whole."""
    node_type = node["type"]
    children = node.get("children", [])
    if node_type == "field":
        return {node["value"]}
    if node_type in _SELF:
        return {WHOLE_CONTEXT}
    if node_type in _NOTHING:
        return set()
    if node_type in _CHAINS:
        # `@.bar` and `@ | bar` read `bar`: a leading `@` step is the context itself.
        first = next((c for c in children[:-1] if c["type"] not in _SELF), children[-1])
        return _root_names(first)
    if node_type in _ARRAYS or node_type == "value_projection":
        if children[0]["type"] in _SELF:
            return {EVERY_VALUE if node_type == "value_projection" else AS_ARRAY}
        return _root_names(children[0])
    names: set[str] = set()
    for child in children:
        names |= _root_names(child)
    return names


# -- templates: "/users/{input.user_id}/todos" -------------------------------------------


@record(frozen=True)
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


@record(frozen=True)
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
