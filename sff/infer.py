"""The type a JMESPath expression gives, walked over its AST from the type of what it is
evaluated on; a field no model has raises `Miss` with the AST path to blame."""

from __future__ import annotations

from typing import Any

from sff import typeinfo as ti
from sff.typeinfo import UNKNOWN, Rec

Path = tuple[int, ...]


class Miss(Exception):
    """A field path that cannot be right; ``path`` leads to the AST node to blame."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


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
        if isinstance(cur, ti.HeaderMap) and name != name.lower():
            raise Miss(
                path,
                f"header names are case-insensitive and exposed in lower case: "
                f'write "{name.lower()}", not "{name}"',
            )
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
