"""`record`: a dataclass whose methods are shared functions, not code compiled per class.

``@dataclass`` (Python 3.11) writes the source of each generated method (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, frozen ``__setattr__`` and ``__delattr__``) and
``exec``s it: 0.3-0.9 ms per class, most of what sff's own modules cost a cold start
(some thirty classes on a handler's path). `record` lets ``dataclasses`` do only the
cheap part (collect the fields, with ``field()`` defaults, factories, ``init``/``repr``/
``compare`` flags: ``fields``, ``replace`` and ``asdict`` work as for any dataclass) and
gives the class methods that read those fields: the same behaviour (``inspect.signature``
included) for ~0.1 ms a class; an instance takes ~1 microsecond longer to build. mypy
reads it as a dataclass (``dataclass_transform``). `tests/test_record.py` holds the two
side by side; `tests/test_import_cost.py` keeps ``@dataclass`` off the handler's path.

Not supported: ``InitVar``, ``kw_only`` and ``__slots__`` (refused), ``order``; use
``@dataclass`` for those.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError, field
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = False, eq: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(field, Field))
def record(
    cls: type[T] | None = None, /, *, frozen: bool = False, eq: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    """``@dataclass`` / ``@dataclass(frozen=..., eq=...)``, cheaper to declare."""

    def wrap(cls: type[T]) -> type[T]:
        return _build(cls, frozen, eq)

    return wrap if cls is None else wrap(cls)


def _build(cls: type[T], frozen: bool, eq: bool) -> type[T]:
    own = dict(cls.__dict__)
    # under a frozen dataclass base, `dataclasses` insists on frozen=True (and then writes
    # __setattr__/__delattr__ itself): rare, and the same classes either way
    inherits_frozen = any(_params(base, "frozen") for base in cls.__mro__[1:])
    undocumented = not cls.__doc__
    if undocumented:  # else `dataclasses` writes one from inspect.signature: ~1 ms a class
        cls.__doc__ = cls.__name__
    dataclasses.dataclass(init=False, repr=False, eq=False, frozen=inherits_frozen)(cls)
    declared = dataclasses.fields(cls)  # type: ignore[arg-type]
    if undocumented:  # a short one, from the field names
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in declared if f.init)})"
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init, params.repr, params.eq, params.frozen = True, True, eq, frozen
    if frozen and not inherits_frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"{cls.__name__}: a frozen record defines __setattr__/__delattr__")
    methods = _methods(cls, declared, frozen and not inherits_frozen, eq, own)
    for name, method in methods.items():
        if callable(method):  # named as @dataclass names its methods (tracebacks)
            method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    return cls


def _methods(
    cls: type[Any], declared: tuple[Field[Any], ...], frozen: bool, eq: bool, own: dict[str, Any]
) -> dict[str, Any]:
    """What ``@dataclass`` would add, by its rules; what the class body defines stays."""
    made: dict[str, Any] = {
        "__init__": _init(cls, declared),
        "__signature__": _Signature(cls, declared),  # what __init__'s *args hide
        "__repr__": _repr(tuple(f.name for f in declared if f.repr)),
    }
    if eq:
        made["__eq__"] = _eq(_key(tuple(f.name for f in declared if f.compare)))
        if own.get("__hash__", MISSING) in (MISSING, None):  # no __hash__ of its own
            hashed = tuple(f.name for f in declared if (f.compare if f.hash is None else f.hash))
            made["__hash__"] = _hash(_key(hashed)) if frozen else None
    if frozen:
        names = frozenset(f.name for f in declared)
        made["__setattr__"] = _frozen_set(cls, names)
        made["__delattr__"] = _frozen_del(cls, names)
    if "__init__" in own:  # inspect reads the class's own __init__
        del made["__signature__"]
    return {k: v for k, v in made.items() if k not in own or k == "__hash__"}


def _params(cls: type[Any], name: str) -> bool:
    return bool(getattr(getattr(cls, "__dataclass_params__", None), name, False))


_UNSET: Any = object()  # a field the arguments must give, or its factory make


def _init(cls: type[Any], declared: tuple[Field[Any], ...]) -> Callable[..., None]:
    """An ``__init__`` taking the ``init`` fields positionally or by name, as
    ``@dataclass`` writes it: defaults, factories, then ``__post_init__``. It fills the
    instance's ``__dict__`` in field order from a copy of the defaults (C-level dict
    work, ~1 microsecond for twenty fields), as the generated one would."""
    if any("__slots__" in vars(k) for k in cls.__mro__[:-1]):
        raise TypeError(f"{cls.__name__}: a record has no __slots__ (use @dataclass)")
    template: dict[str, Any] = {}
    for f in declared:
        if f.kw_only is True:
            raise TypeError(f"{cls.__name__}.{f.name}: a record has no kw_only fields")
        if f.default is not MISSING:
            template[f.name] = f.default
        elif f.init or f.default_factory is not MISSING:
            template[f.name] = _UNSET
    fill = tuple((n, f.default_factory) for f in declared if template.get(n := f.name) is _UNSET)
    names = tuple(f.name for f in declared if f.init)
    accepted = frozenset(names)
    post = hasattr(cls, "__post_init__")
    where = f"{cls.__qualname__}.__init__()"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values = template.copy()
        if args:
            if len(args) > len(names):
                raise TypeError(f"{where} takes {len(names) + 1} positional arguments")
            values.update(zip(names, args, strict=False))
        if kwargs:
            if not accepted.issuperset(kwargs) or not kwargs.keys().isdisjoint(names[: len(args)]):
                raise _bad_keyword(where, accepted, names[: len(args)], kwargs)
            values.update(kwargs)
        for name, factory in fill:
            if values[name] is _UNSET:
                if factory is MISSING:
                    raise TypeError(f"{where} missing required argument: {name!r}")
                values[name] = factory()
        self.__dict__.update(values)
        if post:
            self.__post_init__()

    return __init__


def _bad_keyword(
    where: str, accepted: frozenset[str], positional: tuple[str, ...], kwargs: dict[str, Any]
) -> TypeError:
    name = next(n for n in kwargs if n not in accepted or n in positional)
    problem = "got an unexpected" if name not in accepted else "got multiple values for"
    return TypeError(f"{where} {problem} keyword argument {name!r}")


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of ``names``' values (``attrgetter`` alone gives a bare value for one)."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names) if names else (lambda obj: ())


def _eq(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _frozen_set(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_del(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # as `inspect.signature` shows a dataclass's default_factory


class _Signature:
    """``inspect.signature(cls)`` (``help``, IDEs): the ``init`` fields as parameters, as
    for a dataclass. Built on first use: for every class at import, it would cost a cold
    start ~0.4 ms. Only for the class itself: a subclass has its own ``__init__``."""

    def __init__(self, cls: type[Any], declared: tuple[Field[Any], ...]) -> None:
        self.cls, self.declared = cls, declared
        self.built: Any = None

    def __get__(self, obj: Any, owner: type[Any] | None = None) -> Any:
        if obj is not None or owner is not self.cls:
            raise AttributeError("__signature__")  # inspect then reads __init__ as usual
        if self.built is None:
            self.built = _signature(self.declared)
        return self.built


def _signature(declared: tuple[Field[Any], ...]) -> Any:
    from inspect import Parameter, Signature  # loaded already (dataclasses imports it)

    def default(f: Field[Any]) -> Any:
        if f.default is not MISSING:
            return f.default
        return _Factory() if f.default_factory is not MISSING else Parameter.empty

    kind = Parameter.POSITIONAL_OR_KEYWORD
    params = [Parameter(f.name, kind, default=default(f), annotation=f.type) for f in declared]
    return Signature(
        [p for p, f in zip(params, declared, strict=True) if f.init], return_annotation=None
    )
