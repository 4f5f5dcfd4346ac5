"""Recorded cases are safe to commit: no credential, no secret, no personal file name.

`scrub_case` runs on a case before it is written: the client's credential headers are
dropped, secret query values (by name, or declared with ``Backend(secret_query=)``) and
secret input fields become ``[redacted]``, secret response headers are dropped, and every
secret value the recording invocation sent or received is replaced wherever it was echoed
(bodies, output, error text). The case lists what was redacted, so a reader knows why a
value says ``[redacted]``. `case_name` names the file from non-personal fields only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from sff.secrets import REDACTED, is_secret, redact, redact_data
from sff.spec import Backend
from sff.testing.casefile import Case, Exchange


def scrub_case(case: Case, backends: Mapping[str, list[Backend]], seen: Iterable[str]) -> None:
    """Redact ``case`` in place (``seen``: the secret values the recording noted) and list
    what was redacted in ``case.redacted``."""
    values = [v for v in seen if v]
    notes: list[str] = []
    for name in sorted(case.headers):
        if is_secret(name):
            del case.headers[name]
            notes.append(f"client header {name.lower()} (not kept)")
    if isinstance(case.input, dict):
        for key in sorted(case.input):
            if is_secret(key) and case.input[key] is not None:
                case.input[key] = REDACTED
                notes.append(f"input field {key}")
    for exchange in case.exchanges:
        notes += _scrub_exchange(exchange, _declared(backends.get(exchange.backend, [])), values)
    case.output = redact_data(case.output, values)
    case.error = redact_data(case.error, values)
    case.calls = redact_data(case.calls, values)
    case.redacted = sorted(set(notes))


def _declared(backends: list[Backend]) -> tuple[str, ...]:
    return tuple(q for b in backends for q in b.secret_query)


def _scrub_exchange(ex: Exchange, declared: tuple[str, ...], values: list[str]) -> list[str]:
    notes: list[str] = []
    bare, sep, query = ex.path.partition("?")
    if sep:
        pairs = parse_qsl(query, keep_blank_values=True)
        for name, _ in pairs:
            if is_secret(name, declared):
                notes.append(f"query {name} ({ex.backend})")
        clean = [(k, REDACTED if is_secret(k, declared) else v) for k, v in pairs]
        ex.path = bare + "?" + urlencode(clean, quote_via=quote, safe="[]")
    ex.path = redact(ex.path, values)
    for name in sorted(ex.headers):
        if is_secret(name):
            del ex.headers[name]
            notes.append(f"response header {name} ({ex.backend})")
    ex.headers = {k: redact(v, values) for k, v in ex.headers.items()}
    before = json.dumps([ex.body, ex.json, ex.text], default=str)
    ex.body, ex.json = redact_data(ex.body, values), redact_data(ex.json, values)
    ex.text = None if ex.text is None else redact(ex.text, values)
    if json.dumps([ex.body, ex.json, ex.text], default=str) != before:
        notes.append(f"secret values echoed in {ex.method} {bare} ({ex.backend})")
    return notes


def replay_lookup(query: str) -> dict[str, Any]:
    """How a replay matches a recorded query: exactly, or, when values were redacted
    (the replay sends real ones), on the other parameters and the presence of the rest."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if all(value != REDACTED for _, value in pairs):
        return {"params__eq": query}
    return {"params__contains": [(k, v) for k, v in pairs if v != REDACTED]}


PERSONAL = re.compile(r"(?i)mail|name|phone|addr|birth|ssn|passport|ip|card|iban|user(?!_?id)")


def case_name(input: Any, name: str | None = None) -> str:
    """A file name for a case: ``name`` if given; else the input's number and boolean
    fields (``user_id-1``) whose names are neither secret nor personal, plus a short hash
    of the whole input when anything was left out; else ``default``."""
    if name is not None:
        return _clean(name) or "case"
    if input in (None, {}):
        return "default"
    readable, left_out = [], not isinstance(input, dict)
    if isinstance(input, dict):
        for key, value in sorted(input.items()):
            plain = isinstance(value, int | float | bool) and not is_secret(key)
            if plain and not PERSONAL.search(key):
                readable.append(f"{key}-{str(value).lower()}")
            else:
                left_out = True
    digest = hashlib.sha256(json.dumps(input, sort_keys=True, default=str).encode())
    parts = [*readable, digest.hexdigest()[:8]] if left_out else readable
    return _clean("-".join(parts)) or "case"


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:80]
