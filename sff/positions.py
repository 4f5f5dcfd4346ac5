"""Where a node of a JMESPath AST sits in its expression text, for carets.

The AST jmespath builds keeps no positions; only when a message needs a caret is the
expression parsed again by a parser that notes where each name and literal starts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from jmespath import ast as _ast
from jmespath import parser as _parser

jast: Any = _ast  # the stubs know too little of the parser's internals
_Parser: Any = _parser.Parser


class _Noting(_Parser):  # type: ignore[misc]
    _CACHE: ClassVar[dict[str, Any]] = {}  # not the parent's: these trees carry positions

    def _token_nud_unquoted_identifier(self, token: dict[str, Any]) -> dict[str, Any]:
        return {**jast.field(token["value"]), "pos": token["start"]}

    def _token_nud_quoted_identifier(self, token: dict[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = super()._token_nud_quoted_identifier(token)
        return {**node, "pos": token["start"]}

    def _token_nud_literal(self, token: dict[str, Any]) -> dict[str, Any]:
        return {**jast.literal(token["value"]), "pos": token["start"]}

    def _parse_multi_select_hash(self) -> dict[str, Any]:
        pairs = []
        while True:
            key_token = self._lookahead_token(0)
            self._match_multiple_tokens(token_types=["quoted_identifier", "unquoted_identifier"])
            self._match("colon")
            value = self._expression(0)
            pair = jast.key_val_pair(key_name=key_token["value"], node=value)
            pairs.append({**pair, "pos": key_token["start"]})
            if self._current_token() == "comma":
                self._match("comma")
            elif self._current_token() == "rbrace":
                self._match("rbrace")
                break
        found: dict[str, Any] = jast.multi_select_dict(nodes=pairs)
        return found


def column(text: str, path: tuple[int, ...]) -> int | None:
    """The offset in ``text`` of the node at ``path`` (child indexes from the root), or
    of the first positioned node under it; None when it cannot be told."""
    try:
        node: Any = _Noting().parse(text).parsed
        for index in path:
            node = node["children"][index]
    except Exception:
        return None
    return _first(node)


def _first(node: Any) -> int | None:
    if not isinstance(node, dict):
        return None
    if "pos" in node:
        return int(node["pos"])
    found = [p for p in (_first(c) for c in node.get("children", [])) if p is not None]
    return min(found) if found else None


def root_column(text: str, name: str) -> int | None:
    """The offset of the first field ``name`` read from the root of the context."""
    try:
        tree: Any = _Noting().parse(text).parsed
    except Exception:
        return None
    return _root_field(tree, name)


_LEFT = {
    "subexpression",
    "index_expression",
    "projection",
    "value_projection",
    "filter_projection",
    "pipe",
}


def _root_field(node: Any, name: str) -> int | None:
    if not isinstance(node, dict) or node["type"] in ("literal", "expref"):
        return None
    if node["type"] == "field":
        return int(node["pos"]) if node["value"] == name and "pos" in node else None
    children = node.get("children", [])
    for child in children[:1] if node["type"] in _LEFT else children:
        found = _root_field(child, name)
        if found is not None:
            return found
    return None
