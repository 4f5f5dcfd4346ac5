"""JSON Schema (the subset pydantic emits) -> TypeScript declarations.

Objects become interfaces, ``$defs`` become named declarations referenced by name,
``enum``/``const`` become literal unions, ``anyOf`` with null becomes ``T | null``, an
optional property gets ``?``, tuples (``prefixItems``) become ``[A, B]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}


def type_name(text: str) -> str:
    """A TypeScript identifier from a model or def name: ``Page[Todo]`` -> ``PageTodo``."""
    cleaned = re.sub(r"[^A-Za-z0-9_$]", "", text)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"T{cleaned}"


def declarations(name: str, schema: Schema) -> list[str]:
    """``export`` declarations for a schema named ``name`` and every one of its ``$defs``."""
    out = [declaration(type_name(k), v) for k, v in schema.get("$defs", {}).items()]
    root = {k: v for k, v in schema.items() if k != "$defs"}
    out.append(declaration(type_name(name), root))
    return out


def declaration(name: str, schema: Schema) -> str:
    doc = _doc(schema, "")
    if _type(schema) == "object" and "properties" in schema:
        return f"{doc}export interface {name} {_object(schema, '')}"
    return f"{doc}export type {name} = {ts_type(schema, '')};"


def ts_type(schema: Schema, indent: str = "") -> str:
    if "$ref" in schema:
        return type_name(str(schema["$ref"]).rsplit("/", 1)[-1])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return _union([json.dumps(v) for v in schema["enum"]])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _union([ts_type(s, indent) for s in schema[key]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return ts_type(schema["allOf"][0], indent)
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return _union([ts_type({**schema, "type": k}, indent) for k in kinds])
    return _typed(schema, indent)


def _typed(schema: Schema, indent: str) -> str:
    kind = schema.get("type")
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "null":
        return "null"
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(ts_type(s, indent) for s in schema["prefixItems"]) + "]"
        item = ts_type(schema.get("items", {}), indent)
        return f"({item})[]" if " | " in item else f"{item}[]"
    if kind == "object":
        if "properties" in schema:
            return _object(schema, indent)
        extra = schema.get("additionalProperties")
        value = ts_type(extra, indent) if isinstance(extra, dict) else "unknown"
        return f"Record<string, {value}>"
    return "unknown"


def _object(schema: Schema, indent: str) -> str:
    inner = indent + "  "
    required = set(schema.get("required", []))
    lines = []
    for key, prop in schema.get("properties", {}).items():
        name = key if _IDENT.match(key) else json.dumps(key)
        mark = "" if key in required else "?"
        lines.append(f"{_doc(prop, inner)}{inner}{name}{mark}: {ts_type(prop, inner)};")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        lines.append(f"{inner}[key: string]: {ts_type(extra, inner)};")
    if not lines:
        return "{}"
    return "{\n" + "\n".join(lines) + f"\n{indent}}}"


def _union(members: list[str]) -> str:
    unique = list(dict.fromkeys(members))
    return " | ".join(unique) if unique else "never"


def _type(schema: Schema) -> Any:
    return schema.get("type")


def _doc(schema: Schema, indent: str) -> str:
    text = schema.get("description")
    if not text:
        return ""
    return f"{indent}/** {str(text).replace('*/', '* /')} */\n"
