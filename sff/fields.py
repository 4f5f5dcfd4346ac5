"""Field paths checked against the models sff knows, when a function is declared.

Every expression of a function (path placeholders, query/header/body/args templates,
`each`, `when`, `identity`, the shape) is walked over its JMESPath AST with the types
known for its context: the input model for ``input``, a source's ``response=`` model (or
a called Function's contract) for its JSON, the element type of `each` for ``item``, and
the fixed keys of ``meta``. A field a model does not have is an error with a caret under
the name and a "did you mean"; a type sff cannot read (no ``response=``) claims nothing.
The shape's result is then held against the contract: unknown keys, missing required
fields, and an array, object or scalar where the contract wants another kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sff import typeinfo as ti
from sff.errors import DeclarationError, ExpressionError
from sff.expr import Expr, Template, Value
from sff.typeinfo import UNKNOWN, Rec

if TYPE_CHECKING:
    from sff.function import Function
    from sff.plan import Node

Path = tuple[int, ...]
META_KEYS: dict[str, Any] = {
    "outcome": str,
    "degraded": bool,
    "reason": str | None,
    "stale_s": float | None,
    "status": int | None,
}
"""What ``meta.<source>`` holds (a later addition: the response's ``headers``)."""


class Miss(Exception):
    """A field path that cannot be right; ``path`` leads to the AST node to blame."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def check_function(fn: Function) -> None:
    """Raise the first field-path mistake of ``fn`` as a declaration error."""
    checker = Checker(fn)
    for node in fn.plan.nodes.values():
        checker.source(node)
    checker.shape()


def meta_refs(ast: Any) -> set[str] | None:
    """The sources whose outcome an expression reads as ``meta.X``; None when it reads
    ``meta`` as a whole (which would depend on every source)."""
    found: set[str] = set()
    for node in _root_nodes(ast):
        kind = node["type"]
        if kind == "field" and node["value"] == "meta":
            return None
        if kind in ("subexpression", "index_expression") and _is_meta(node["children"][0]):
            second = node["children"][1]
            if second["type"] != "field":
                return None
            found.add(second["value"])
    return found


def _is_meta(node: Any) -> bool:
    return isinstance(node, dict) and node["type"] == "field" and node["value"] == "meta"


_LEFT_ONLY = {"projection", "value_projection", "filter_projection", "pipe"}


def _root_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Nodes evaluated against the root context: where ``meta.X`` can start."""
    if not isinstance(node, dict) or node["type"] in ("literal", "expref"):
        return
    kind = node["type"]
    if kind in ("subexpression", "index_expression") and _is_meta(node["children"][0]):
        yield node
        return
    yield node
    children = node.get("children", [])
    if kind in _LEFT_ONLY or kind in ("subexpression", "index_expression"):
        children = children[:1]
    for child in children:
        yield from _root_nodes(child)


def unknown_name(
    name: str, known: list[str], exprs: list[tuple[Expr, str, int]]
) -> tuple[str | None, str]:
    """For an unknown root name: the place of the expression using it, and a did-you-mean
    with the expression (as shown: a placeholder inside its template) and a caret."""
    from sff.errors import pointed
    from sff.positions import root_column

    for expr, shown, offset in exprs:
        if name in expr.names:
            hint = did_you_mean(name, ["input", *known]).split(" (fields:")[0]
            at = root_column(expr.text, name)
            return (
                expr.where.place,
                f"{hint}\n{pointed(shown, None if at is None else offset + at)}",
            )
    return None, ""


class Checker:
    """Types of one function's context, and the walk of its expressions."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.input: Any = fn.input if fn.input is not None else UNKNOWN
        self.sources = {name: source_type(node) for name, node in fn.plan.nodes.items()}
        entries = {n: Rec(f"meta.{n}", META_KEYS) for n in fn.plan.nodes}
        self.meta = Rec("meta (the sources' outcomes)", entries)

        self.root = Rec("the context", {"input": self.input, **self.sources, "meta": self.meta})

    def scope(self, item: Any = None) -> Rec:
        if item is None:
            return self.root
        return Rec("the context", {**self.root.fields, "item": item})

    def source(self, node: Node) -> None:
        scope = self.scope()
        item = None
        if node.each is not None:
            item = ti.element(self.expr(node.each, scope))
        scope = self.scope(item if item is not None else None)
        if node.when is not None:
            self.expr(node.when, scope)
        if node.identity is not None:
            known = {"input": self.input, "headers": dict[str, str]}
            self.expr(node.identity, Rec("identity's context {input, headers}", known))
        if node.args is not None:
            self.value(node.args, scope)
        request = node.request
        if request is None:
            return
        self.template(request.path, scope)
        for value in (request.query, request.headers, request.body):
            if value is not None:
                self.value(value, scope)
        if request.idempotency_key is not None:
            self.expr(request.idempotency_key, scope)

    def shape(self) -> None:
        shape = self.fn.shape
        if shape.value is None:
            return
        fit = Fit(self, self.fn.contract.__name__ if self.fn.contract else "")
        fit.tree(shape.value.tree, self.fn.contract or UNKNOWN, "shape")

    # -- walking expressions ------------------------------------------------------------

    def expr(self, expr: Expr, scope: Any, *, shown: str | None = None, offset: int = 0) -> Any:
        try:
            return Infer().node(expr._ast, scope, ())
        except Miss as miss:
            raise located(expr, miss.path, miss.reason, shown, offset) from None

    def template(self, template: Template, scope: Any) -> None:
        offset = 0
        for part in template.parts:
            if isinstance(part, str):
                offset += len(part)
                continue
            self.expr(part, scope, shown=template.text, offset=offset + 1)
            offset += len(part.text) + 2

    def value(self, value: Value, scope: Any) -> None:
        for expr in _exprs(value.tree):
            self.expr(expr, scope)


def source_type(node: Node) -> Any:
    """What a source's JSON is known to be: ``response=``, a called Function's contract,
    else unknown; a list of that with `each`."""
    from sff.function import Function

    declared = node.source.options.response
    target = getattr(node.source, "target", None)
    if declared is None and isinstance(target, Function) and target.contract is not None:
        declared = target.contract
    one = UNKNOWN if declared is None else declared
    return list[one] if node.each is not None else one  # type: ignore[valid-type]


def _exprs(tree: Any) -> Iterator[Expr]:
    if isinstance(tree, Expr):
        yield tree
    elif isinstance(tree, dict):
        for child in tree.values():
            yield from _exprs(child)
    elif isinstance(tree, list):
        for child in tree:
            yield from _exprs(child)


def located(
    expr: Expr, path: Path, reason: str, shown: str | None = None, offset: int = 0
) -> ExpressionError:
    from sff.positions import column

    at = column(expr.text, path)
    return ExpressionError(
        reason,
        function=expr.where.function,
        where=expr.where.place,
        expression=expr.text if shown is None else shown,
        column=None if at is None else offset + at,
    )


class Infer:
    """The type an expression gives, from the type of what it is evaluated on."""

    def node(self, node: dict[str, Any], cur: Any, path: Path) -> Any:
        kind = node["type"]
        children = node.get("children", [])

        def sub(i: int, on: Any) -> Any:
            return self.node(children[i], on, (*path, i))

        if kind == "field":
            return self.field(cur, node["value"], path)
        if kind in ("subexpression", "pipe", "index_expression"):
            for i in range(len(children)):  # `a.b.c` is one node of three
                cur = sub(i, cur)
            return cur
        if kind == "index":
            return ti.element(cur)
        if kind == "slice":
            return cur if ti.kinds(cur) == {"array"} else UNKNOWN
        if kind == "projection":
            left = sub(0, cur)
            return self.projected(left, lambda on: sub(1, on))
        if kind == "value_projection":
            left = sub(0, cur)
            values = ti.map_value(left) if ti.kinds(left) == {"map"} else UNKNOWN
            return ti.array_of(sub(1, values))
        if kind == "filter_projection":
            left = sub(0, cur)
            each = ti.element(left) if ti.kinds(left) == {"array"} else UNKNOWN
            sub(2, each)
            return ti.array_of(sub(1, each)) if each is not UNKNOWN else UNKNOWN
        if kind == "flatten":
            inner = ti.element(sub(0, cur))
            return ti.array_of(ti.element(inner) if ti.kinds(inner) == {"array"} else inner)
        if kind in ("identity", "current"):
            return cur
        if kind == "literal":
            return _literal(node["value"])
        if kind in ("or_expression", "and_expression"):
            first, second = sub(0, cur), sub(1, cur)
            return first if first == second else UNKNOWN
        if kind in ("not_expression", "comparator"):
            for i in range(len(children)):
                sub(i, cur)
            return bool
        if kind == "multi_select_list":
            for i in range(len(children)):
                sub(i, cur)
            return list[Any]
        if kind == "multi_select_dict":
            built = {kv["value"]: sub(i, cur) for i, kv in enumerate(children)}
            where = {kv["value"]: (*path, i) for i, kv in enumerate(children)}
            return Rec("the shaped object", built, True, where)
        if kind == "key_val_pair":
            return sub(0, cur)
        if kind == "function_expression":
            return self.function(node, cur, path)
        return UNKNOWN

    def projected(self, left: Any, right: Any) -> Any:
        if ti.kinds(left) == {"array"}:
            return ti.array_of(right(ti.element(left)))
        right(UNKNOWN)
        return UNKNOWN

    def field(self, cur: Any, name: str, path: Path) -> Any:
        found: list[Any] = []
        for alt in ti.alternatives(cur):
            kind = ti.kind(alt)
            if kind == "unknown":
                return UNKNOWN
            if kind == "map":
                found.append(ti.map_value(alt))
            elif kind == "object":
                known = ti.fields(alt)
                if known is None:
                    return UNKNOWN
                if name in known:
                    found.append(known[name])
        if len(found) == 1:
            return found[0]
        if found:
            return UNKNOWN
        alts = ti.alternatives(cur)
        if not alts:
            return UNKNOWN
        raise Miss(path, _why_missing(alts[0], name))

    def function(self, node: dict[str, Any], cur: Any, path: Path) -> Any:
        name, args = node["value"], node["children"]

        def arg(i: int, on: Any = cur) -> Any:
            return self.node(args[i], on, (*path, i))

        def by_ref(i: int, on: Any) -> Any:  # `&expr` evaluated on each element
            return self.node(args[i]["children"][0], on, (*path, i, 0))

        if name in ("sort_by", "max_by", "min_by") and len(args) == 2:
            array = arg(0)
            if args[1]["type"] == "expref":
                by_ref(1, ti.element(array))
            return array if name == "sort_by" else ti.element(array)
        if name == "map" and len(args) == 2 and args[0]["type"] == "expref":
            return ti.array_of(by_ref(0, ti.element(arg(1))))
        if name in ("index_by", "group_by", "join_on"):
            return self.keyed(name, args, [arg(i) for i in range(len(args))], path)
        types = [arg(i) for i in range(len(args))]
        return _RETURNS.get(name, lambda _: UNKNOWN)(types)

    def keyed(self, name: str, args: list[Any], types: list[Any], path: Path) -> Any:
        """``index_by(users, 'id')``: the key must be a field of the element."""
        pairs = [(0, 2)] if name == "join_on" else [(0, 1)]
        if name == "join_on":
            pairs.append((1, 3))
        for array_at, key_at in pairs:
            key = args[key_at] if key_at < len(args) else None
            if key is None or key["type"] != "literal" or not isinstance(key["value"], str):
                continue
            self.field(ti.element(types[array_at]), key["value"], (*path, key_at))
        each = ti.element(types[0]) if types else UNKNOWN
        if name == "index_by":
            return UNKNOWN if each is UNKNOWN else dict[str, each]  # type: ignore[valid-type]
        if name == "group_by":
            return UNKNOWN if each is UNKNOWN else dict[str, list[each]]  # type: ignore[valid-type]
        return UNKNOWN


def _same(types: list[Any]) -> Any:
    return types[0] if types else UNKNOWN


_RETURNS: dict[str, Any] = {
    "length": lambda _: int,
    "to_string": lambda _: str,
    "type": lambda _: str,
    "join": lambda _: str,
    "contains": lambda _: bool,
    "starts_with": lambda _: bool,
    "ends_with": lambda _: bool,
    "reverse": _same,
    "sort": _same,
    "default": _same,
    "coalesce": _same,
    "not_null": _same,
    "max": lambda t: ti.element(t[0]) if t else UNKNOWN,
    "min": lambda t: ti.element(t[0]) if t else UNKNOWN,
    "keys": lambda _: list[str],
}


def _literal(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return type(value)
    return list[Any] if isinstance(value, list) else UNKNOWN


def _why_missing(tp: Any, name: str) -> str:
    kind = ti.kind(tp)
    if kind == "array":
        return (
            f"{name!r} is read from an array ({ti.name(tp)}), which has no fields: "
            f"write `[*].{name}` to read it from every element"
        )
    if kind == "scalar":
        what = ti.scalar_kind(tp) or "value"
        return f"{name!r} is read from a {what} ({ti.name(tp)}), which has no fields"
    known = sorted(ti.fields(tp) or {})
    return f"no field {name!r} in {ti.name(tp)}" + did_you_mean(name, known)


def did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:  # case slips (productId for product_id) are the common typo
        folded = {k.replace("_", "").lower(): k for k in known}
        hit = folded.get(name.replace("_", "").lower())
        close = [hit] if hit else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return hint + f" (fields: {', '.join(known) or 'none'})"


class Fit:
    """The shape's result held against the contract."""

    def __init__(self, checker: Checker, contract: str) -> None:
        self.checker, self.contract = checker, contract

    def tree(self, tree: Any, want: Any, place: str) -> None:
        if isinstance(tree, Expr):
            got = self.checker.expr(tree, self.checker.scope())
            self.expr(tree, got, want, ())
        elif isinstance(tree, dict):
            model = _one_object(want)
            if model is not None:
                self.keys(set(tree), model, place, None)
                known = ti.fields(model) or {}
                for key, child in tree.items():
                    self.tree(child, known.get(key, UNKNOWN), f"{place}.{key}")
            else:
                for key, child in tree.items():
                    self.tree(child, UNKNOWN, f"{place}.{key}")
        elif isinstance(tree, list):
            each = ti.element(want) if ti.kinds(want) == {"array"} else UNKNOWN
            for i, child in enumerate(tree):
                self.tree(child, each, f"{place}[{i}]")

    def keys(self, keys: set[str], model: Any, place: str, blame: Any) -> None:
        known = ti.fields(model)
        if known is None:
            return
        for key in sorted(keys - set(known)):
            self.fail(
                f"shape key {key!r} is not a field of contract {ti.name(model)}"
                + did_you_mean(key, sorted(known)),
                place,
                blame,
                key,
            )
        missing = [k for k in ti.required(model) if k not in keys]
        if missing:
            self.fail(
                f"contract {ti.name(model)} requires field {missing[0]!r}, "
                "which the shape never builds",
                place,
                blame,
                None,
            )

    def expr(self, expr: Expr, got: Any, want: Any, path: Path) -> None:
        gk, wk = ti.kinds(got), ti.kinds(want)
        if "unknown" in gk or "unknown" in wk:
            return
        gots, wants = ti.alternatives(got), ti.alternatives(want)
        if len(gots) == 1 and len(wants) == 1:
            self.one(expr, gots[0], wants[0], path)
        elif not _compatible_kinds(gk, wk):
            self.mismatch(expr, got, want, path)

    def one(self, expr: Expr, got: Any, want: Any, path: Path) -> None:
        gk, wk = ti.kind(got), ti.kind(want)
        if gk == "object" and wk == "object":
            if isinstance(got, Rec):
                self.keys(set(got.fields), want, "", (expr, got))
                known = ti.fields(want) or {}
                for key, sub in got.fields.items():
                    self.expr(expr, sub, known.get(key, UNKNOWN), got.where.get(key, path))
            else:
                missing = [k for k in ti.required(want) if k not in (ti.fields(got) or {})]
                if missing and ti.fields(got) is not None:
                    raise located(
                        expr,
                        path,
                        f"contract {ti.name(want)} requires field {missing[0]!r}, but the "
                        f"shape gives {ti.name(got)}, which has no such field",
                    )
        elif gk == "array" and wk == "array":
            self.expr(expr, ti.element(got), ti.element(want), path)
        elif gk == "scalar" and wk == "scalar":
            number = ti.scalar_kind(got) in ("number", "boolean")
            if number and ti.scalar_kind(want) == "string":  # pydantic never makes text of it
                self.mismatch(expr, got, want, path)
        elif not _compatible_kinds({gk}, {wk}):
            self.mismatch(expr, got, want, path)

    def mismatch(self, expr: Expr, got: Any, want: Any, path: Path) -> None:
        raise located(
            expr,
            path,
            f"contract {self.contract or 'field'} expects {ti.name(want)} here, "
            f"the shape gives {ti.name(got)}",
        )

    def fail(self, reason: str, place: str, blame: Any, key: str | None) -> None:
        if blame is not None:
            expr, rec = blame
            first = next(iter(rec.where.values()), (0,))
            raise located(expr, rec.where.get(key, first) if key else first[:-1], reason)
        fn = self.checker.fn.name
        raise DeclarationError(f"function {fn!r}, {place}: {reason}", function=fn, where=place)


def _one_object(tp: Any) -> Any:
    alts = ti.alternatives(tp)
    if len(alts) == 1 and ti.kind(alts[0]) == "object":
        return alts[0]
    return None


def _compatible_kinds(got: set[ti.Kind], want: set[ti.Kind]) -> bool:
    """Whether pydantic could accept some value of ``got`` for ``want`` (a JSON object
    fits a model or a dict alike)."""
    widen: dict[str, str] = {"map": "object"}
    return bool({widen.get(k, k) for k in got} & {widen.get(k, k) for k in want})
