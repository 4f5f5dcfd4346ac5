"""Data from pydantic models, through their JSON schema: the smallest valid value (for the
degradation matrix) and hypothesis strategies (for property checks).

Covers what pydantic emits: objects, arrays, tuples (prefixItems), enums and consts,
anyOf/oneOf/allOf, ``$ref`` into ``$defs``, and the usual string/number/array bounds.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

Schema = Mapping[str, Any]
_MAX_ITEMS = 5


def model_schema(model: Any) -> dict[str, Any]:
    """The JSON schema of a pydantic model or of any type pydantic validates
    (e.g. ``list[Model]``, what a collection endpoint returns)."""
    return TypeAdapter(model).json_schema(mode="validation")


def _resolve(schema: Schema, defs: Schema) -> Schema:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _type(schema: Schema) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return str(kind[0]) if kind else None
    return kind


def minimal(model: Any) -> Any:
    """The smallest JSON value the model accepts (required fields only). Every constraint
    pydantic checks is honoured (a pattern, a format, a validator): when the quick guess
    does not validate, hypothesis searches for the simplest value that does."""
    schema = model_schema(model)
    guess = _minimal(schema, schema.get("$defs", {}))
    return guess if _valid(model, guess) else _searched(model)


def _valid(model: Any, value: Any) -> bool:
    try:
        TypeAdapter(model).validate_python(value)
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return False
    return True


@functools.cache
def _simplest_string(schema: str) -> Any:
    return _simplest(_string(json.loads(schema)))


def _simplest(found: SearchStrategy[Any]) -> Any:
    """The value hypothesis shrinks ``found`` to: small, and the same on every run."""
    from hypothesis import HealthCheck, Phase, find, settings

    quiet = settings(
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    return find(found, lambda _: True, settings=quiet)


def _searched(model: Any) -> Any:
    """The simplest value of the model's strategy that pydantic accepts."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    quiet = settings(
        database=None,
        max_examples=500,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    try:
        return find(strategy(model), lambda value: _valid(model, value), settings=quiet)
    except (NoSuchExample, Unsatisfiable):
        schema = model_schema(model)
        return _minimal(schema, schema.get("$defs", {}))  # the matrix reports what fails


def _minimal(schema: Schema, defs: Schema) -> Any:
    schema = _resolve(schema, defs)
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(o, defs) for o in schema[key]]
            plain = [o for o in options if _type(o) == "null"] or options
            return _minimal(plain[0], defs)
    if "allOf" in schema:
        return _minimal(schema["allOf"][0], defs)
    return _minimal_typed(schema, defs)


def _minimal_typed(schema: Schema, defs: Schema) -> Any:
    kind = _type(schema)
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _minimal(props[k], defs) for k in schema.get("required", []) if k in props}
    if kind == "array":
        prefix = schema.get("prefixItems")
        if prefix:
            return [_minimal(s, defs) for s in prefix]
        count = int(schema.get("minItems", 0))
        return [_minimal(schema.get("items", {}), defs) for _ in range(count)]
    if kind == "string":
        if "pattern" in schema or schema.get("format") in _FORMATS:
            return _simplest_string(json.dumps(schema, sort_keys=True))
        return "x" * int(schema.get("minLength", 0))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(0, low) if "maximum" not in schema else min(max(0, low), schema["maximum"])
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            value = schema["exclusiveMinimum"] + 1
        step = schema.get("multipleOf")
        if step:
            value = math.ceil(value / step) * step
        return int(value) if kind == "integer" else float(value)
    return {"boolean": False, "null": None}.get(kind or "")


@functools.cache
def strategy(model: Any) -> SearchStrategy[Any]:
    """Every JSON value the model's schema allows (kept small), for hypothesis."""
    schema = model_schema(model)
    return from_schema(schema, schema.get("$defs", {}))


def from_schema(schema: Schema, defs: Schema) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    schema = _resolve(schema, defs)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, defs) for s in schema[key]])
    if "allOf" in schema:
        return from_schema(schema["allOf"][0], defs)
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return st.one_of([from_schema({**schema, "type": k}, defs) for k in kinds])
    return _typed(schema, defs)


def _typed(schema: Schema, defs: Schema) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    kind = schema.get("type")
    if kind == "object":
        return _object(schema, defs)
    if kind == "array":
        return _array(schema, defs)
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        low, high = _bounds(schema)
        return st.integers(None if low is None else int(low), None if high is None else int(high))
    if kind == "number":
        low, high = _bounds(schema)
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return _any_json()


def _bounds(schema: Schema) -> tuple[float | None, float | None]:
    low = schema.get("minimum")
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + (1 if schema.get("type") == "integer" else 1e-9)
    high = schema.get("maximum")
    if "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - (1 if schema.get("type") == "integer" else 1e-9)
    return low, high


def _object(schema: Schema, defs: Schema) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {k: from_schema(v, defs) for k, v in props.items() if k in required}
    optional = {k: from_schema(v, defs) for k, v in props.items() if k not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and not props:
        return st.dictionaries(st.text(max_size=8), from_schema(extra, defs), max_size=_MAX_ITEMS)
    return base


def _array(schema: Schema, defs: Schema) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    prefix = schema.get("prefixItems")
    if prefix:
        return st.tuples(*(from_schema(s, defs) for s in prefix)).map(list)
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", max(low, _MAX_ITEMS)))
    items = from_schema(schema.get("items", {}), defs)
    return st.lists(items, min_size=low, max_size=high)


def _string(schema: Schema) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    fmt = str(schema.get("format", ""))
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", max(low, 20)))
    if fmt in _FORMATS:
        made: SearchStrategy[Any] = _FORMATS[fmt]()
        return made
    if "pattern" in schema:  # pydantic searches a pattern (re.search), lengths apply too
        found = st.from_regex(schema["pattern"], fullmatch=True)
        if "minLength" in schema or "maxLength" in schema:
            found = found.filter(
                lambda text: low <= len(text) <= int(schema.get("maxLength", 1 << 30))
            )
        return found
    return st.text(min_size=low, max_size=max(low, high))


def _formats() -> dict[str, Any]:
    from hypothesis import provisional
    from hypothesis import strategies as st

    return {
        "date-time": lambda: st.datetimes().map(_iso_utc),
        "date": lambda: st.dates().map(_iso),
        "time": lambda: st.times().map(_iso),
        "uuid": lambda: st.uuids().map(str),
        "email": lambda: st.emails(),
        "uri": lambda: provisional.urls(),
    }


class _LazyFormats(dict[str, Any]):
    """String formats hypothesis knows, built on first use (hypothesis loads lazily)."""

    def _load(self) -> None:
        if not self:
            self.update(_formats())

    def __contains__(self, key: object) -> bool:
        self._load()
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._load()
        return super().__getitem__(key)


_FORMATS = _LazyFormats()


def _iso_utc(value: Any) -> str:
    return f"{value.isoformat()}Z"


def _iso(value: Any) -> str:
    return str(value.isoformat())


def _any_json() -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    return st.recursive(
        scalars,
        _containers,
        max_leaves=8,
    )


def _containers(inner: SearchStrategy[Any]) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner)
