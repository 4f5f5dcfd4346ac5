"""Which parts of each source's JSON any expression of a function can read (projection pushdown).

Walked backwards over every JMESPath AST of a function: from what is observed of an
expression's result (``ALL``, or only some fields) to what is observed of the value it is
evaluated on. A `Pick` keeps, of an object, only the named keys (each kept as its own
demand says) and, with ``every``, all other keys too; of an array, every element, each
picked the same way; a scalar is always kept whole. Pruning by a `Pick` never changes a
value's type nor an array's length, so whatever an expression does not read by name
(its truth, its length, a function's type checks) comes out as over the full document.

Anything that observes a value as a whole (a comparison, most function arguments, the
shape's result) demands ``ALL``; anything this walk does not know also does, so an
unknown construct costs speed, never correctness. The result, per source, is what
`sff.http.projected` decodes a body into; ``ALL`` (or no result at all) is a full parse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    pass


class _All:
    """The whole value."""

    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All()


class Pick:
    """Of an object only ``fields`` (each as its demand says) and, with ``every``, all the
    other keys as ``every`` says; of an array every element, as ``items`` says (None:
    nothing inside them is read); a scalar whole. Immutable, hashable: decoders are kept
    per distinct demand. (A plain class: a dataclass costs the handler's import time.)"""

    __slots__ = ("every", "fields", "items")

    def __init__(
        self,
        fields: Mapping[str, Demand] | None = None,
        every: Demand | None = None,
        items: Demand | None = None,
    ) -> None:
        self.fields: Mapping[str, Demand] = fields or {}
        self.every, self.items = every, items

    def _key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.fields.items(), key=_first)), self.every, self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pick) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Pick({dict(self.fields)!r}, every={self.every!r}, items={self.items!r})"


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


Demand = _All | Pick
EMPTY: Final = Pick()  # the value's type, an array's length: nothing inside
TRUTH: Final = Pick(every=EMPTY, items=EMPTY)  # whether it is empty: its keys or elements


def join(a: Demand | None, b: Demand | None) -> Demand | None:
    """What is read by either."""
    if a is None:
        return b
    if b is None or a is b:
        return a
    if a is ALL or b is ALL:
        return ALL
    assert isinstance(a, Pick) and isinstance(b, Pick)
    fields = dict(a.fields)
    for name, more in b.fields.items():
        fields[name] = joined(fields.get(name), more)
    return Pick(fields, join(a.every, b.every), join(a.items, b.items))


def joined(a: Demand | None, b: Demand | None) -> Demand:
    return join(a, b) or EMPTY


def element_of(out: Demand) -> Demand:
    """What is read of each element of an array read by ``out``."""
    return out.items or EMPTY if isinstance(out, Pick) else ALL


def key_of(out: Demand, key: str) -> Demand:
    """What is read of one key of an object read by ``out``."""
    return joined(out.fields.get(key), out.every) if isinstance(out, Pick) else ALL


# -- one expression -----------------------------------------------------------------------


def need(node: dict[str, Any], out: Demand) -> Demand | None:
    """What ``node`` reads of the value it is evaluated on, when ``out`` of its result is
    read; None when it reads nothing of it (a literal)."""
    kind = node["type"]
    kids = node.get("children", [])
    if kind == "field":
        return Pick({node["value"]: out})
    if kind in ("identity", "current"):
        return out
    if kind == "literal":
        return None
    if kind == "index":
        return Pick(items=out)
    if kind == "slice":
        return Pick(items=element_of(out))
    if kind in ("subexpression", "index_expression", "pipe"):
        demand: Demand = out
        for child in reversed(kids):
            demand = need(child, demand) or EMPTY
        return demand
    if kind == "flatten":
        each = element_of(out)
        return need(kids[0], Pick(items=joined(each, Pick(items=each))))
    if kind == "projection":
        return need(kids[0], Pick(items=need(kids[1], element_of(out)) or EMPTY))
    if kind == "value_projection":
        return need(kids[0], Pick(every=need(kids[1], element_of(out)) or EMPTY))
    if kind == "filter_projection":
        each = joined(need(kids[1], element_of(out)), need(kids[2], TRUTH))
        return need(kids[0], Pick(items=each))
    if kind in ("or_expression", "and_expression"):
        return join(need(kids[0], joined(out, TRUTH)), need(kids[1], out))
    if kind == "not_expression":
        return need(kids[0], TRUTH)
    if kind == "multi_select_list":
        return join_all(need(child, element_of(out)) for child in kids)
    if kind == "multi_select_dict":
        return join_all(need(kv["children"][0], key_of(out, kv["value"])) for kv in kids)
    if kind == "function_expression":
        return _function(node, out)
    if kind == "comparator":
        return join_all(need(child, ALL) for child in kids)
    return ALL  # a node this walk does not know reads everything


def join_all(demands: Iterator[Demand | None]) -> Demand | None:
    found: Demand | None = None
    for one in demands:
        found = join(found, one)
    return found


_PASS = {"default", "coalesce", "not_null", "reverse"}  # the result is one of the arguments


def _function(node: dict[str, Any], out: Demand) -> Demand | None:
    name, args = node["value"], node["children"]
    refs = [a["children"][0] if a["type"] == "expref" else None for a in args]
    if name in _PASS:
        return join_all(need(arg, out) for arg in args)
    if name in ("length", "keys") and len(args) == 1:
        return need(args[0], TRUTH)  # keys of an object, elements of an array, all of a string
    if name == "type" and len(args) == 1:
        return need(args[0], EMPTY)
    if name == "values" and len(args) == 1:
        return need(args[0], Pick(every=element_of(out)))
    if name in ("sort_by", "max_by", "min_by") and len(args) == 2 and refs[1] is not None:
        key = need(refs[1], ALL) or EMPTY  # the keys are compared whole
        each = element_of(out) if name == "sort_by" else out
        return need(args[0], Pick(items=joined(each, key)))
    if name == "map" and len(args) == 2 and refs[0] is not None:
        return need(args[1], Pick(items=need(refs[0], element_of(out)) or EMPTY))
    known, keyed = _keyed(name, args, out)
    if known:
        return keyed
    # anything else reads its arguments whole (an `&expr` runs on another argument's elements,
    # read whole here too)
    return join_all(need(ref or arg, ALL) for arg, ref in zip(args, refs, strict=True))


def _texts(node: dict[str, Any]) -> list[str] | None:
    """The strings a literal argument is (``'id'``, ``['id', 'name']``), else None."""
    if node["type"] == "literal":
        value = node["value"]
        values = value if isinstance(value, list) else [value]
    elif node["type"] == "multi_select_list" and all(
        c["type"] == "literal" for c in node["children"]
    ):
        values = [c["value"] for c in node["children"]]
    else:
        return None
    return values if all(isinstance(v, str) for v in values) else None


def _any_value(out: Demand) -> Demand:
    """What is read of a value of an object whose keys the data decides."""
    if not isinstance(out, Pick):
        return ALL
    return join_all(iter([out.every, *out.fields.values()])) or EMPTY


def _keyed(name: str, args: list[dict[str, Any]], out: Demand) -> tuple[bool, Demand | None]:
    """`pick`, `index_by`, `group_by`, `join_on` with literal keys (their semantics in
    `sff.expr`): the key fields are read whole, the rest as the result is read.
    ``(False, None)`` when this is not one of them (or a key is not a literal)."""
    if name == "pick" and len(args) == 2:
        names = _texts(args[1])
        if names is None:
            return False, None
        return True, need(args[0], Pick({k: key_of(out, k) for k in names}))
    if name in ("index_by", "group_by") and len(args) == 2:
        key = _one_text(args[1])
        if key is None:
            return False, None
        each = _any_value(out) if name == "index_by" else element_of(_any_value(out))
        return True, need(args[0], Pick(items=joined(Pick({key: ALL}), each)))
    if name == "join_on" and len(args) == 5:
        lkey, rkey, into = (_one_text(a) for a in args[2:])
        if lkey is None or rkey is None or into is None:
            return False, None
        each = element_of(out)  # a left item, with `into` set to its match
        left = each
        if isinstance(each, Pick):  # its own `into`, if any, is replaced
            rest = {k: d for k, d in each.fields.items() if k != into}
            left = Pick(rest, each.every, each.items)
        return True, join(
            need(args[0], Pick(items=joined(Pick({lkey: ALL}), left))),
            need(args[1], Pick(items=joined(Pick({rkey: ALL}), key_of(each, into)))),
        )
    return False, None


def _one_text(node: dict[str, Any]) -> str | None:
    found = _texts(node) if node["type"] == "literal" else None
    return found[0] if found is not None and len(found) == 1 else None


def prune(value: Any, demand: Demand) -> Any:
    """``value`` as `demand` keeps it: the reference the decoders are checked against."""
    if demand is ALL or not isinstance(demand, Pick):
        return value
    if type(value) is list:
        return [prune(v, demand.items or EMPTY) for v in value]
    if type(value) is not dict:
        return value
    if demand.every is not None:
        return {k: prune(v, joined(demand.fields.get(k), demand.every)) for k, v in value.items()}
    return {k: prune(value[k], d) for k, d in demand.fields.items() if k in value}
