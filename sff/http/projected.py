"""A body decoded into only the fields a function's expressions can read (`sff.projection`).

msgspec's typed decoding does it natively: a ``TypedDict`` of the read fields skips every
other key in C, building no Python object for it, and still checks the whole document's
syntax. Measured on 17 MiB of 20-field objects read for 2 fields: stdlib ``json`` 1,309 ms,
orjson then pruning 718 ms (it builds every object first), msgspec typed 158 ms; so msgspec,
whose peak memory also holds only what is kept.

The decoded value is the full parse pruned by the demand, or the full parse itself: whatever
msgspec refuses (a lone surrogate escape, which ``json`` reads; a number past a float, which
sff refuses) goes the stdlib way and fails or succeeds exactly as before. Two things msgspec
does not look at in what it skips are checked here: the bytes are UTF-8 (an ASCII body, the
common case, costs one C scan), and nothing more; a number too large for a float inside a
skipped field is never read, so never answered, and is let be (see the README).

Bodies under `MIN_BYTES` are parsed whole: msgspec's import (7-16 ms measured) would cost a
cold start more than it saves on a small body, and a small body's parse costs little.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any, Final

from sff.projection import ALL, EMPTY, Demand, Pick, join

MIN_BYTES: Final = 64 * 1024
LIST_DEPTH: Final = 3  # arrays nested deeper than this inside a picked value are read whole
_CHUNK = 1 << 20
MISS: Final = object()  # msgspec refused the body: parse it the stdlib way
_decoders: dict[Demand, Projected | None] = {}


class Projected:
    """Decodes a JSON body into what ``demand`` reads of it."""

    def __init__(self, demand: Pick) -> None:
        import msgspec

        self.demand = demand
        self._decode: Callable[[bytes], Any] = msgspec.json.Decoder(_type(demand)).decode
        self._errors = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)

    def __call__(self, body: bytes) -> Any:
        """The projected value, or `MISS` when only the stdlib parse can say."""
        try:
            if not body.isascii():
                _check_utf8(body)
            return self._decode(body)
        except self._errors:
            return MISS


def for_demand(demand: Demand) -> Projected | None:
    """The decoder for ``demand`` (one per distinct demand in the process); None for a
    full parse: everything is read, or msgspec is not installed."""
    if demand is ALL or not isinstance(demand, Pick):
        return None
    if demand not in _decoders:
        try:
            _decoders[demand] = Projected(demand)
        except ImportError:
            _decoders[demand] = None
    return _decoders[demand]


def _check_utf8(body: bytes) -> None:
    """UnicodeDecodeError unless ``body`` is UTF-8, in 1 MiB steps (no whole copy as text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    for start in range(0, len(body), _CHUNK):
        decoder.decode(view[start : start + _CHUNK])
    decoder.decode(b"", True)


def _type(demand: Demand, lists: int = LIST_DEPTH) -> Any:
    """The msgspec type that keeps what ``demand`` reads, and takes any JSON at all."""
    if not isinstance(demand, Pick) or lists < 0:
        return Any
    # elements nobody reads are kept as bare skeletons, so far down (then whole)
    element = _type(demand.items, lists) if demand.items else _type(EMPTY, lists - 1)
    return _object(demand) | list[element] | str | int | float | bool | None  # type: ignore[valid-type]


def _object(demand: Pick) -> Any:
    if demand.every is not None:  # every key is kept: each value as any of them is read
        inner = demand.every
        for more in demand.fields.values():
            inner = join(inner, more) or inner
        return dict[str, _type(inner)]  # type: ignore[misc]
    from typing import TypedDict

    members = {k: _type(d) for k, d in demand.fields.items()}
    return TypedDict("Picked", members, total=False)  # type: ignore[operator]
