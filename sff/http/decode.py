"""A response body read under a cap: content codings undone as a stream, decoded bytes counted.

Every decoder emits at most `_OUT` bytes per step (zlib's ``max_length``, brotli's
``output_buffer_limit``, zstandard's ``write_size``) and hands each piece to the next one,
and the last to `Capped`, which stops the read the moment the decoded size passes the cap:
a 512 MB gzip bomb costs one step's output, not the bomb. The codings are httpx's
(gzip, deflate with or without its zlib wrapper, br, zstd); brotli and zstandard are
imported only when an answer uses them. Any other coding is the source's failure.
"""

from __future__ import annotations

import io
import sys
import zlib
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any

from sff.errors import SourceError

_OUT = 64 * 1024
Sink = Callable[[bytes], None]
Where = str | Callable[[], str]  # "GET /path" for messages, or what makes it (only on failure)


class CodingError(Exception):
    """A body that does not decode, or a coding sff does not know."""


class Capped:
    """Collects decoded bytes; over ``limit`` it raises the source's failure.

    Into one growing buffer, whose bytes `body` hands over without a copy: joining a list
    of pieces held the body twice at the end (measured: peak 2.0x a 32 MiB body, 1.01x so).
    """

    def __init__(self, name: str, limit: int) -> None:
        self.name, self.limit, self.size = name, limit, 0
        self.buffer = io.BytesIO()

    def __call__(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            self.buffer = io.BytesIO()
            raise SourceError(self.name, f"response is over the {self.limit}-byte cap")
        if piece:
            self.buffer.write(piece)

    def body(self) -> bytes:
        body, self.buffer = self.buffer.getvalue(), io.BytesIO()
        return body


class _Zlib:
    def __init__(self, coding: str, sink: Sink) -> None:
        self.sink, self.coding, self.first = sink, coding, True
        wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
        self.inner = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> None:
        first, self.first = self.first, False
        try:
            out = self.inner.decompress(data, _OUT)
        except zlib.error:
            if not (first and self.coding == "deflate"):
                raise
            self.inner = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as httpx allows
            out = self.inner.decompress(data, _OUT)
        self.sink(out)
        while self.inner.unconsumed_tail:
            self.sink(self.inner.decompress(self.inner.unconsumed_tail, _OUT))

    def end(self) -> None:
        self.sink(self.inner.flush())


class _Brotli:
    def __init__(self, sink: Sink) -> None:
        import brotli

        self.sink, self.inner = sink, brotli.Decompressor()

    def feed(self, data: bytes) -> None:
        self.sink(self.inner.process(data, output_buffer_limit=_OUT))
        while not self.inner.can_accept_more_data():
            self.sink(self.inner.process(b"", output_buffer_limit=_OUT))

    def end(self) -> None:
        if not self.inner.is_finished():
            raise CodingError("truncated br stream")


class _Zstd:
    def __init__(self, sink: Sink) -> None:
        import zstandard

        self.sink = sink
        self.inner: Any = zstandard.ZstdDecompressor().stream_writer(self, write_size=_OUT)  # type: ignore[arg-type]

    def write(self, piece: bytes) -> int:  # zstandard's stream_writer calls this per piece
        self.sink(bytes(piece))
        return len(piece)

    def feed(self, data: bytes) -> None:
        self.inner.write(data)

    def end(self) -> None:
        self.inner.flush()


class Decoding:
    """Undoes ``encoding`` (codings in the order applied, so undone last first) into ``sink``."""

    def __init__(self, encoding: str | None, sink: Sink) -> None:
        self.sink = sink
        self.steps: list[Any] = []
        target = sink
        for coding in (c.strip().lower() for c in (encoding or "").split(",")):
            if coding not in ("", "identity"):
                step = _one(coding, target)
                self.steps.insert(0, step)
                target = step.feed

    def feed(self, data: bytes) -> None:
        if self.steps:
            self.steps[0].feed(data)
        else:
            self.sink(data)

    def end(self) -> None:
        for step in self.steps:  # each flushes into the next, which then ends
            step.end()


def _one(coding: str, sink: Sink) -> Any:
    if coding in ("gzip", "x-gzip", "deflate"):
        return _Zlib("deflate" if coding == "deflate" else "gzip", sink)
    try:
        if coding == "br":
            return _Brotli(sink)
        if coding == "zstd":
            return _Zstd(sink)
    except ImportError:
        raise CodingError(f"{coding} needs a decoder that is not installed") from None
    raise CodingError(f"unsupported Content-Encoding {coding[:40]!r}")


DECODE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, CodingError)


def decode_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a body that does not decode raises, for the codecs loaded so far."""
    found = list(DECODE_ERRORS)
    if "brotli" in sys.modules:
        found.append(sys.modules["brotli"].error)
    if "zstandard" in sys.modules:
        found.append(sys.modules["zstandard"].ZstdError)
    return tuple(found)


async def read(
    name: str, where: Where, pieces: AsyncIterable[bytes], headers: Mapping[str, str], limit: int
) -> bytes:
    """The decoded body, at most ``limit`` bytes; ``headers`` maps lower-cased names."""
    capped = _capped(name, headers, limit)
    try:
        decoding = Decoding(headers.get("content-encoding"), capped)
        async for piece in pieces:
            decoding.feed(piece)
        decoding.end()
    except _failing() as exc:  # asked after decoding: a codec loads on first use
        raise _failure(name, where, exc) from None
    return capped.body()


def read_whole(
    name: str, where: Where, pieces: list[bytes], headers: Mapping[str, str], limit: int
) -> bytes:
    """`read` for a body already received whole (a small answer arrives with its head):
    the same cap, codings and errors, without a stream to iterate."""
    if not headers.get("content-encoding"):  # nothing to undo: the pieces are the body
        _declared_within(name, headers, limit)
        body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if len(body) > limit:
            raise SourceError(name, f"response is over the {limit}-byte cap")
        return body
    capped = _capped(name, headers, limit)
    try:
        decoding = Decoding(headers.get("content-encoding"), capped)
        for piece in pieces:
            decoding.feed(piece)
        decoding.end()
    except _failing() as exc:  # asked after decoding: a codec loads on first use
        raise _failure(name, where, exc) from None
    return capped.body()


def _failing() -> tuple[type[BaseException], ...]:
    return (*decode_errors(), MemoryError)


def _failure(name: str, where: Where, exc: BaseException) -> SourceError:
    """A body that does not decode, as httpx's DecodingError (not worth a retry), or one
    too big for the memory left."""
    where = where if isinstance(where, str) else where()
    if isinstance(exc, MemoryError):
        return SourceError(name, f"{where}: out of memory reading the response")
    return SourceError(name, f"{where}: DecodingError: {exc}")


def _capped(name: str, headers: Mapping[str, str], limit: int) -> Capped:
    _declared_within(name, headers, limit)
    return Capped(name, limit)


def _declared_within(name: str, headers: Mapping[str, str], limit: int) -> None:
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SourceError(name, f"response of {declared} bytes is over the {limit}-byte cap")
