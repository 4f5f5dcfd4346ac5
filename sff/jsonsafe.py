"""JSON that cannot hurt: no NaN or Infinity, nothing nested deeper than a documented limit.

Every JSON body sff reads (a backend's answer, a request's body) goes through `loads`, or,
for a decoder of its own, through `check_depth` on what it parsed, so the rules are the
same whichever parser runs:

- ``NaN``, ``Infinity`` and numbers that overflow to infinity (``1e999``) are refused, as
  RFC 8259 has none of them (they could never be answered as JSON);
- nesting deeper than the limit (backend answers: `MAX_DEPTH`, 512, or
  ``SFF_MAX_JSON_DEPTH``; request bodies: 64) is refused with `TooDeep`, before anything
  recursive (pydantic, JMESPath, ``json.dumps``) meets it. Python's own recursion limit is
  never what stops it: `json` raises `RecursionError` near 1,000 levels, which is mapped
  to the same `TooDeep`.

The depth check runs in C and costs a small fraction of the parse (see `_bracket_depth`
and benchmarks/json_depth.py): a body with no more brackets than the limit cannot be
deeper (``bytes.count``); a longer one is measured on its brackets outside strings.
"""

from __future__ import annotations

import json
import os
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 512
_CONTAINERS = (dict, list)


class TooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        ValueError.__init__(self, f"JSON nested deeper than {limit} levels")
        self.limit = limit


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # RFC 8259 has no NaN or Infinity


def _finite(text: str, float: type[float] = float) -> float:
    value = float(text)
    if value - value:  # only inf - inf is NaN (truthy); a finite value minus itself is 0.0
        raise ValueError(f"{text[:40]} is out of range for a number")
    return value


# The float hook costs ~1.2x on a 1 MB body of 9,000 floats and nothing on one without
# floats; a regex pre-check to skip it scanned slower (3x) than the parse itself.
_DECODER = json.JSONDecoder(parse_constant=_refuse, parse_float=_finite)


def max_depth() -> int:
    """The nesting limit of backend answers: ``SFF_MAX_JSON_DEPTH``, else 512."""
    raw = os.environ.get("SFF_MAX_JSON_DEPTH", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else MAX_DEPTH


def loads(body: bytes | str, limit: int | None = None, errors: str = "strict") -> Any:
    """``body`` parsed strictly; `ValueError` (or its `TooDeep`) when it is not usable JSON.
    ``errors`` is how bytes are decoded (a request body keeps ``json.loads``'s
    ``surrogatepass``)."""
    limit = max_depth() if limit is None else limit
    text = body.decode(_encoding(body), errors) if isinstance(body, bytes) else body
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise TooDeep(limit) from None
    return check_depth(body, value, limit)


_NOT_PLAIN = frozenset({0, 0xEF, 0xFE, 0xFF})  # what a BOM or a UTF-16/32 body starts with


def _encoding(body: bytes) -> str:
    """`json.detect_encoding`, without its calls for a body that can only be UTF-8: one
    whose first byte starts no BOM and whose first two bytes are not NUL."""
    if body and body[0] not in _NOT_PLAIN and body[1:2] != b"\x00":
        return "utf-8"
    return json.detect_encoding(body)


def check_depth(body: bytes | str, value: Any, limit: int) -> Any:
    """``value`` (parsed from ``body``) when nothing in it is nested deeper than ``limit``;
    else `TooDeep`. Iterative: the check itself cannot overflow the stack."""
    if not isinstance(value, _CONTAINERS):
        return value
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) <= 16 * limit and raw.count(b"[") + raw.count(b"{") <= limit:
        return value  # each level opens a bracket: this body cannot be deeper
    if b"\\" in raw:  # escapes: only inside strings; without them quotes pair up
        # backslashes pair from the left exactly as JSON reads them (each starts an escape,
        # and an escaped one is two); what is left starts another escape, \" among them
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    if _bracket_depth(raw, limit):
        raise TooDeep(limit)
    return value


_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
_UNIFY = bytes.maketrans(b"{}", b"[]")
_STEPS = bytes.maketrans(b"[]", b"\x01\xff")  # +1 / -1 as signed bytes
_QUOTED = re.compile(rb'"[^"]*"')
_ROUNDS = 16


def _bracket_depth(raw: bytes, limit: int) -> bool:
    """Whether valid JSON ``raw`` (escapes removed) nests deeper than ``limit``, in C.

    Only quotes and brackets are kept, so a bracket-free string becomes ``""``; when every
    quote is in such a pair, no string holds a bracket and the quotes just go. Otherwise
    the pairs go with one ``replace`` (two adjacent quotes either hold an empty string or
    close one and open the next with no bracket between: removing them never moves a
    bracket into or out of a string), and the few strings left, those holding brackets,
    are cut by a regex.
    Then each ``replace("[]")`` peels one level off every branch: ordinary bodies are gone
    in a few rounds, and a deep one is measured by its running sum."""
    marks = raw.translate(_UNIFY, _STRUCTURE)
    if marks.count(b'""') * 2 == marks.count(b'"'):  # no string holds a bracket
        marks = marks.translate(None, b'"')
    else:
        marks = _QUOTED.sub(b"", marks.replace(b'""', b""))
    for peeled in range(_ROUNDS):
        if not marks:
            return False
        if peeled >= limit:
            return True
        marks = marks.replace(b"[]", b"")
    steps = memoryview(marks.translate(_STEPS)).cast("b")
    return _ROUNDS + max(accumulate(steps), default=0) > limit
