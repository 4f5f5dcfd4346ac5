"""A tiny block-style YAML emitter for the infrastructure files.

sff has no YAML dependency, and the files written here hold only mappings, lists, strings,
numbers and booleans. Strings that could be read as anything else are double-quoted with
JSON escapes, which YAML accepts verbatim; CloudFormation intrinsics use their long form
(`{"Ref": ...}`), so no tags are needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

YamlValue = str | int | float | bool | None | Mapping[str, "YamlValue"] | Sequence["YamlValue"]

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:-]*$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _scalar(value: str | int | float | bool | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def _lines(value: YamlValue, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, item in value.items():
            head = f"{pad}{_scalar(key)}:"
            if isinstance(item, Mapping | list | tuple) and item:
                out.append(head)
                out.extend(_lines(item, indent + 1))
            else:
                out.append(f"{head} {_inline(item)}")
        return out
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            if isinstance(item, Mapping | list | tuple) and item:
                nested = _lines(item, indent + 1)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + _inline(value)]


def _inline(value: YamlValue) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    assert not isinstance(value, Sequence) or isinstance(value, str)
    return _scalar(value)


def dump(value: Mapping[str, YamlValue], header: str = "") -> str:
    """Render a mapping as block YAML; `header` lines become leading comments."""
    comments = [f"# {line}".rstrip() for line in header.splitlines()]
    return "\n".join([*comments, *_lines(value, 0)]) + "\n"
