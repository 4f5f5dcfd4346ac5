"""What sff knows of a value's type, read from pydantic models and type hints.

The field checker (`sff.fields`) asks three questions of a type: which keys an object has,
what an array holds, and whether it is a scalar. A type it cannot read is *unknown*, and
nothing is claimed about an unknown type: the check is strict only where a model says so.
"""

from __future__ import annotations

import datetime
import enum
import sys
import types
import typing
import uuid
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel

from sff._record import record

UNKNOWN: Any = Any
Kind = Literal["unknown", "object", "array", "map", "scalar"]

_SCALARS: dict[type, str] = {
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    bytes: "string",
    datetime.datetime: "string",
    datetime.date: "string",
    datetime.time: "string",
    datetime.timedelta: "string",
    uuid.UUID: "string",
}
_ARRAYS = {list, tuple, set, frozenset, typing.Sequence, list, set}
_MAPS = {dict, typing.Mapping, dict}
_ABC_ARRAYS = {"Sequence", "MutableSequence", "Set", "Iterable", "Collection", "AbstractSet"}
_ABC_MAPS = {"Mapping", "MutableMapping"}


@record(frozen=True, eq=False)
class Rec:
    """An object whose keys sff knows without a model: the context, `meta`, a shaped
    `{key: expr}`. ``where`` maps a key to the AST path that builds it (for carets)."""

    label: str
    fields: Mapping[str, Any]
    closed: bool = True
    where: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


def _is_root_model(tp: type) -> TypeGuard[type[BaseModel]]:
    """A `pydantic.RootModel` subclass. Asked without importing pydantic's root_model
    (building the RootModel class costs a cold start milliseconds): until someone has
    imported it, no class can be one."""
    module = sys.modules.get("pydantic.root_model")
    return module is not None and issubclass(tp, module.RootModel)


@record(frozen=True, eq=False)
class HeaderMap:
    """HTTP headers by name: any key, read in lower case (names are case-insensitive)."""

    label: str


def alternatives(tp: Any) -> list[Any]:
    """The non-null members of a union (``Optional[X]`` is ``[X]``), Annotated stripped."""
    if isinstance(tp, type) and _is_root_model(tp):  # its JSON is its root's
        return alternatives(tp.model_fields["root"].annotation)
    if isinstance(tp, Rec | HeaderMap) or (isinstance(tp, type) and tp is not type(None)):
        return [tp]  # the common case, without asking typing
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return alternatives(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        found: list[Any] = []
        for arg in typing.get_args(tp):
            found.extend(alternatives(arg))
        return found
    if tp is None or tp is type(None):
        return []
    return [tp]


def kind(tp: Any) -> Kind:
    """The JSON kind of one (non-union) type."""
    if isinstance(tp, Rec):
        return "object"
    if isinstance(tp, HeaderMap):
        return "map"
    try:
        return _KINDS[tp]
    except (KeyError, TypeError):
        pass
    found = _kind(tp)
    if _hashable(tp):  # declarations reuse a few types many times: remember them
        _KINDS[tp] = found
    return found


_KINDS: dict[Any, Kind] = {}


def _kind(tp: Any) -> Kind:
    if _is_model(tp):
        return "object"
    origin = typing.get_origin(tp) or tp
    if not _hashable(origin):
        return "unknown"
    if origin is Literal or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return "scalar"
    if tp in _SCALARS or (isinstance(tp, type) and issubclass(tp, tuple(_SCALARS))):
        return "scalar"
    if origin in _ARRAYS or getattr(origin, "__name__", "") in _ABC_ARRAYS:
        return "array"
    if origin in _MAPS or getattr(origin, "__name__", "") in _ABC_MAPS:
        return "map"
    return "unknown"


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def kinds(tp: Any) -> set[Kind]:
    """Every kind a (possibly union) type can take; ``{"unknown"}`` when any is unknown."""
    found = {kind(alt) for alt in alternatives(tp)}
    return {"unknown"} if "unknown" in found or not found else found


def scalar_kind(tp: Any) -> str | None:
    """``"number"``, ``"string"`` or ``"boolean"`` for one plain scalar type, else None."""
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return None
    for base, text in _SCALARS.items():  # bool before int: a bool is an int to Python
        if isinstance(tp, type) and issubclass(tp, base):
            return text
    return None


def element(tp: Any) -> Any:
    """What an array holds (unknown when the type says nothing)."""
    members = [a for a in alternatives(tp) if kind(a) == "array"]
    if len(members) != 1:
        return UNKNOWN
    args = typing.get_args(members[0])
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        return args[0] if args else UNKNOWN
    return args[0] if len(set(args)) == 1 else UNKNOWN


def map_value(tp: Any) -> Any:
    if isinstance(tp, HeaderMap):
        return str | None  # a header the answer lacks is null
    args = typing.get_args(tp)
    return args[1] if len(args) == 2 else UNKNOWN


def array_of(tp: Any) -> Any:
    return UNKNOWN if tp is UNKNOWN else list[tp]


def fields(tp: Any) -> Mapping[str, Any] | None:
    """An object's keys and their types; None when extra keys are allowed (open)."""
    if isinstance(tp, Rec):
        return tp.fields if tp.closed else None
    if tp not in _FIELDS:  # a model class: its fields do not change once it is built
        _FIELDS[tp] = _model_fields(tp)
    return _FIELDS[tp]


_FIELDS: dict[Any, dict[str, Any] | None] = {}


def _model_fields(tp: Any) -> dict[str, Any] | None:
    assert _is_model(tp)
    if tp.model_config.get("extra") == "allow":
        return None
    found: dict[str, Any] = {}
    for name, info in tp.model_fields.items():
        found[name] = info.annotation
        if info.alias:  # JSON from a backend is read by alias, a model dumped by name
            found[info.alias] = info.annotation
    for name, computed in tp.model_computed_fields.items():  # dumped like fields
        found[computed.alias or name] = computed.return_type
    return found


def required(tp: Any) -> list[str]:
    """The keys a model cannot do without (no default), as the shape must build them."""
    if not _is_model(tp):
        return []
    return [info.alias or name for name, info in tp.model_fields.items() if info.is_required()]


def name(tp: Any, *, inner: bool = False) -> str:
    if isinstance(tp, Rec | HeaderMap):
        return tp.label
    if _is_model(tp):
        return tp.__name__ if inner else f"model {tp.__name__}"
    if isinstance(tp, type):
        return tp.__name__
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is not None and args and isinstance(origin, type):
        return f"{origin.__name__}[{', '.join(name(a, inner=True) for a in args)}]"
    return repr(tp).replace("typing.", "")


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)
