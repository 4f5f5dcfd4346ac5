"""`sff._record.record` behaves as ``@dataclass`` for every feature sff's classes use:
each check runs the same class declared both ways and compares."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest

from sff._record import record


def declare(deco: Any) -> tuple[type[Any], type[Any]]:
    """A frozen class and a mutable one, decorated by ``deco(frozen=...)``."""

    @deco(frozen=True)
    class Point:
        x: int
        y: int = 2
        tags: tuple[str, ...] = ()
        extra: dict[str, int] = field(default_factory=dict)
        note: str = field(default="", repr=False, compare=False)

    @deco(frozen=False)
    class Meta:
        name: str
        items: list[int] = field(default_factory=list)
        cached: bytes | None = field(default=None, init=False, repr=False, compare=False)
        seen: int = 0

        def __post_init__(self) -> None:
            self.seen += 1

    return Point, Meta


OURS = declare(record)
THEIRS = declare(dataclass)
BOTH = pytest.mark.parametrize("classes", [OURS, THEIRS], ids=["record", "dataclass"])


def test_repr_eq_and_hash_match_dataclass() -> None:
    (p, m), (dp, dm) = OURS, THEIRS
    assert repr(p(1, note="n")) == repr(dp(1, note="n")).replace(dp.__qualname__, p.__qualname__)
    assert repr(m("a")) == repr(dm("a")).replace(dm.__qualname__, m.__qualname__)
    assert p(1, 2) == p(1, 2, note="ignored") and p(1) != p(2) and p(1) != (1, 2)
    with pytest.raises(TypeError):  # a dict field: unhashable, as with @dataclass
        hash(p(1))

    @record(frozen=True)
    class Pair:
        a: int
        b: str = field(default="", compare=False)

    assert hash(Pair(1, "x")) == hash(Pair(1, "y")) == hash((1,))
    assert m.__hash__ is None and dm.__hash__ is None  # eq without frozen: unhashable
    assert m("a") == m("a") and m("a") != m("b")


@BOTH
def test_defaults_factories_and_post_init(classes: tuple[type[Any], type[Any]]) -> None:
    point, meta = classes
    one, two = point(1), point(1)
    assert (one.y, one.tags, one.extra) == (2, (), {}) and one.extra is not two.extra
    made = meta("a")
    assert (made.items, made.cached, made.seen) == ([], None, 1)
    assert meta("b", [1], 5).seen == 6


@BOTH
def test_frozen_refuses_assignment_and_deletion(classes: tuple[type[Any], type[Any]]) -> None:
    point, meta = classes
    with pytest.raises(FrozenInstanceError):
        point(1).x = 3
    with pytest.raises(FrozenInstanceError):
        del point(1).y
    changed = meta("a")
    changed.name = "b"
    assert changed.name == "b"


@BOTH
def test_bad_arguments_raise_type_error(classes: tuple[type[Any], type[Any]]) -> None:
    point, meta = classes
    for call in (
        lambda: point(),
        lambda: point(1, 2, (), {}, "", "too many"),
        lambda: point(1, x=1),
        lambda: point(1, nope=1),
        lambda: meta("a", cached=b""),  # init=False
    ):
        with pytest.raises(TypeError):
            call()


@BOTH
def test_dataclasses_functions_and_copies_work(classes: tuple[type[Any], type[Any]]) -> None:
    point, _ = classes
    one = point(1, tags=("a",))
    assert dataclasses.is_dataclass(one)
    assert [f.name for f in dataclasses.fields(one)] == ["x", "y", "tags", "extra", "note"]
    assert dataclasses.replace(one, y=5) == point(1, 5, ("a",))
    assert dataclasses.asdict(one) == {"x": 1, "y": 2, "tags": ("a",), "extra": {}, "note": ""}
    assert copy.deepcopy(one) == one and copy.copy(one) == one
    assert point.__match_args__ == ("x", "y", "tags", "extra", "note")
    match one:
        case point(1, 2):
            pass
        case _:
            pytest.fail("positional match")


def test_an_own_init_and_eq_false_are_kept() -> None:
    @record(frozen=True, eq=False)
    class Span:
        start: float = 0.0

        def __init__(self, start: str = "1") -> None:
            object.__setattr__(self, "start", float(start))

    one = Span("2")
    assert one.start == 2.0 and one != Span("2") and hash(one) != hash(Span("2"))
    assert dataclasses.replace(one, start="3").start == 3.0


def test_a_dataclass_may_extend_a_frozen_record() -> None:
    point, _ = OURS

    @dataclass(frozen=True)
    class Point3(point):  # type: ignore[valid-type,misc]
        z: int = 0

    @record(frozen=True)
    class Point4(point):  # type: ignore[valid-type,misc]
        w: int = 0

    assert Point3(1, z=3).z == 3 and Point4(1, w=4) == Point4(1, w=4)
    with pytest.raises(FrozenInstanceError):
        Point4(1).w = 5


def test_inspect_shows_the_fields_as_parameters() -> None:
    (p, m), (dp, dm) = OURS, THEIRS
    assert str(inspect.signature(p)) == str(inspect.signature(dp))
    assert str(inspect.signature(m)) == str(inspect.signature(dm))

    @record
    class Sub(p):  # type: ignore[valid-type,misc]
        z: int = 0

    @dataclass
    class Mutable(m):  # type: ignore[valid-type,misc]
        more: int = 0

    assert list(inspect.signature(Sub).parameters)[-1] == "z"
    assert list(inspect.signature(Mutable).parameters)[-1] == "more"
