"""NaN and Infinity never pass a contract (or an input model) unnoticed.

JSON has neither, and pydantic dumps them as ``null``: a backend sending ``"NaN"`` into a
``float`` field (pydantic's lax mode parses the string), an expression overflowing
(``sum`` of huge numbers), a ``call()`` source or a ``Fallback.value`` handing back
``float("inf")`` would silently become a ``null`` the frontend never asked for. So after
validation the instance is checked, and a non-finite number is a contract mismatch naming
the field, like any other.

pydantic cannot be told per call (``allow_inf_nan`` is model config, and nested models
keep their own prebuilt validators), and walking every value of every answer costs about
as much as validating it. So the check is *compiled once per model from its core schema*:
it visits only the paths that can hold a float (``float``, ``Decimal``, ``Any``, unions,
custom validators); a contract without such a field costs nothing, one with a float per
list item costs a few attribute reads per item, summed in C. An ``Any`` (or union) part is
checked by serializing it in Rust, walked in Python only where that finds a NaN.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, to_json

Path = tuple[str | int, ...]
Check = Callable[[Any], Path | None]  # the path to the first non-finite number, or None

# Core schema types that never hold a float (their own values serialize as strings or ints).
_SCALARS = frozenset({
    "int", "str", "bool", "bytes", "none", "literal", "enum", "date", "time", "datetime",
    "timedelta", "uuid", "url", "multi-host-url", "is-instance", "is-subclass", "callable",
    "missing-sentinel",
})  # fmt: skip
_WRAPPERS = frozenset({
    "nullable", "default", "function-after", "function-before", "function-wrap",
    "custom-error", "json-or-python", "lax-or-strict",
})  # fmt: skip
_SEQUENCES = frozenset({"list", "set", "frozenset", "generator"})
_cache: dict[type[BaseModel], Check | None] = {}


def checker(model: type[BaseModel]) -> Check | None:
    """The compiled check of ``model``'s instances; None when nothing in it can be a float."""
    if model not in _cache:
        _cache[model] = _Compiler().compile(model.__pydantic_core_schema__)
    return _cache[model]


def where(model: type[BaseModel], instance: Any) -> Path | None:
    """The path of the first NaN or Infinity in a validated ``instance``, if any."""
    check = checker(model)
    if check is None:
        return None
    try:
        return check(instance)
    except RecursionError:  # a recursive contract, deeply nested: walk it without recursing
        return anywhere(instance)


def bad_number(value: Any) -> bool:
    if isinstance(value, float):
        return value - value != 0.0  # inf - inf and nan - nan are nan; finite - itself is 0.0
    return isinstance(value, Decimal) and not value.is_finite()


def _is_root_model(node: Any) -> bool:
    """A `pydantic.RootModel` instance, asked without importing pydantic's root_model (see
    `sff.typeinfo`): until someone has imported it, nothing is one."""
    module = sys.modules.get("pydantic.root_model")
    return module is not None and isinstance(node, module.RootModel)


def anywhere(value: Any) -> Path | None:
    """Any NaN or Infinity in plain data or model instances (``Any`` fields, unions)."""
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if bad_number(node):
            return path
        if isinstance(node, dict | list) and _plain_and_finite(node):
            continue
        if _is_root_model(node):
            stack.append((node.root, path))
            continue
        if isinstance(node, BaseModel):
            items: Any = _model_items(node)
        elif hasattr(node, "__dataclass_fields__"):
            items = vars(node).items()
        elif isinstance(node, Mapping):
            items = node.items()
        elif isinstance(node, list | tuple | set | frozenset):
            items = enumerate(node)
        else:
            continue
        stack.extend((child, (*path, key)) for key, child in items if not _plain(child))
    return None


def _plain_and_finite(node: dict[Any, Any] | list[Any]) -> bool:
    """Whether ``node`` holds no NaN or Infinity, told in Rust: pydantic's serializer writes
    them as ``NaN``/``Infinity`` tokens when asked, and a search for the tokens is a
    memchr (~0.6x of serializing the part; a Python step per value cost ~10x). A token
    (or a string holding the word) sends the walk into the node, to find where. What an
    ``Any`` part holds at validation is what the shape built: JSON data (backend answers,
    ``call()`` results dumped to JSON, copies of fallback values), never model instances,
    whose own config would write null."""
    try:
        text = to_json(node, inf_nan_mode="constants")
    except (ValueError, TypeError, RecursionError):  # PydanticSerializationError is one
        return False
    return b"NaN" not in text and b"Infinity" not in text


def _model_items(node: BaseModel) -> Any:
    """Every value the instance serializes: fields, extras, computed fields."""
    computed = {name: getattr(node, name) for name in type(node).model_computed_fields}
    return {**node.__dict__, **(node.__pydantic_extra__ or {}), **computed}.items()


def _plain(value: Any) -> bool:
    return value is None or type(value) in (str, int, bool)


def _leaf(value: Any) -> Path | None:
    return () if bad_number(value) else None


class _Compiler:
    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self.refs: dict[str, list[Check | None]] = {}

    def compile(self, schema: Mapping[str, Any]) -> Check | None:
        kind = schema.get("type")
        if kind in _SCALARS:
            return None
        if kind in ("float", "decimal"):
            return _leaf
        if kind in _WRAPPERS and "schema" in schema:
            return self.compile(schema["schema"])
        if kind in _SEQUENCES:
            return _each(self.compile(schema.get("items_schema") or {"type": "any"}))
        if kind == "dict":
            return _values(self.compile(schema.get("values_schema") or {"type": "any"}))
        if kind == "model":
            return self.model(schema)
        if kind == "definitions":
            self.defs.update({d["ref"]: d for d in schema["definitions"]})
            return self.compile(schema["schema"])
        if kind == "definition-ref":
            return self.ref(schema["schema_ref"])
        if kind == "union":
            choices = [c[0] if isinstance(c, tuple) else c for c in schema["choices"]]
            return anywhere if any(self.compile(c) for c in choices) else None
        return anywhere  # Any, tuples, dataclasses, plain validators: whatever they hold

    def ref(self, ref: str) -> Check | None:
        """A named schema, compiled once; a recursive one reads its own cell when called."""
        if ref not in self.refs:
            cell: list[Check | None] = [anywhere]  # in use while its own body compiles
            self.refs[ref] = cell
            cell[0] = self.compile(self.defs[ref]) if ref in self.defs else anywhere
        cell = self.refs[ref]
        return lambda value: cell[0](value) if cell[0] is not None else None

    def model(self, schema: Mapping[str, Any]) -> Check | None:
        inner = schema["schema"]
        if inner.get("type") != "model-fields":
            return anywhere  # a root model or a custom one: check whatever it holds
        fields = {n: self.compile(f["schema"]) for n, f in inner["fields"].items()}
        checks = [(n, c) for n, c in fields.items() if c is not None]
        loose = bool(inner.get("computed_fields")) or inner.get("extras_schema") is not None
        if not checks and not loose and inner.get("extra_behavior") != "allow":
            return None
        return _Fields(checks, every=loose or inner.get("extra_behavior") == "allow")


def _each(check: Check | None) -> Check | None:
    if check is None:
        return None
    floats = check.leaves if isinstance(check, _Fields) and check.only_leaves else ()

    def each(value: Any) -> Path | None:
        if value is None:
            return None
        if floats and _all_finite(value, floats):
            return None
        for index, item in enumerate(value):
            found = check(item)
            if found is not None:
                return (index, *found)
        return None

    return each


def _all_finite(items: Any, names: tuple[str, ...]) -> bool:
    """Whether every item's float fields are finite, summed in C: a NaN or an infinity
    makes the sum non-finite. False may also mean None, a Decimal, or a sum that
    overflowed: then the items are looked at one by one."""
    try:
        for name in names:
            total = sum(map(attrgetter(name), items), 0.0)
            if total - total != 0.0:
                return False
    except (TypeError, AttributeError):
        return False
    return True


def _values(check: Check | None) -> Check | None:
    if check is None:
        return None

    def values(value: Any) -> Path | None:
        if value is None:
            return None
        for key, item in value.items():
            found = check(item)
            if found is not None:
                return (key, *found)
        return None

    return values


class _Fields:
    """The check of one model's fields; float fields are checked inline (a list of 1,000
    items then costs a few attribute reads per item, not a call per field)."""

    def __init__(self, checks: list[tuple[str, Check]], *, every: bool) -> None:
        self.leaves = tuple(n for n, c in checks if c is _leaf)
        self.others = [(n, c) for n, c in checks if c is not _leaf]
        self.every = every
        self.only_leaves = not self.others and not every

    def __call__(self, value: Any) -> Path | None:
        if value is None:
            return None
        if self.every:  # extras or computed fields: anything the instance will serialize
            return anywhere(value)
        for name in self.leaves:
            number = getattr(value, name, None)
            if number.__class__ is float:
                if number - number != 0.0:
                    return (name,)
            elif bad_number(number):
                return (name,)
        for name, check in self.others:
            found = check(getattr(value, name, None))
            if found is not None:
                return (name, *found)
        return None


def not_finite(model: type[BaseModel], path: Path, instance: Any) -> ValidationError:
    """pydantic's own ``finite_number`` error at ``path``, so it is reported like any other
    mismatch (the field, what was expected, the value)."""
    value = instance
    for key in path:
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list | tuple):
            value = value[int(key)]
        else:
            value = getattr(value, str(key), None)
    error: InitErrorDetails = {"type": "finite_number", "loc": path, "input": value}
    return ValidationError.from_exception_data(model.__name__, [error])
