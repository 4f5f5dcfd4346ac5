"""JMESPath text -> AST: jmespath's own parser, made strict where the spec is strict.

Three differences from ``jmespath.compile``, each for a reason:

- A backtick literal must be JSON. jmespath still accepts the long-deprecated
  `` `foo` `` (read as the string "foo"), and Python's ``json`` reads ``NaN``,
  ``Infinity`` and ``1e999`` (a float overflowing to infinity), none of which is JSON.
- Function calls, expression references and slices carry ``pos``, the column of their
  first character, so a declaration error can put its caret under them.
- Nothing is cached: jmespath's parse cache hands the same AST, literals included, to
  every caller of the same text; ours are compiled once and owned by one expression.
"""

from __future__ import annotations

import json
import math
from typing import Any, cast

from jmespath import exceptions as jexc
from jmespath import lexer, parser

Node = dict[str, Any]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a number")
    return number


def json_literal(text: str) -> Any:
    """A backtick literal's value; ValueError unless ``text`` is JSON with finite numbers."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


class _StrictLexer(lexer.Lexer):
    def _consume_literal(self) -> dict[str, Any]:
        this: Any = self  # jmespath's lexer keeps its state in untyped attributes
        start = this._position
        lexeme = this._consume_until("`").replace("\\`", "`")
        try:
            value = json_literal(lexeme)
        except (ValueError, RecursionError):
            hint = " (a string literal is `\"text\"` or 'text')" if lexeme.strip() else ""
            raise jexc.LexerError(
                lexer_position=start,
                lexer_value=lexeme,
                message=f"literal `{lexeme}` is not JSON{hint}",
            ) from None
        end = this._position
        return {"type": "literal", "value": value, "start": start, "end": end - start}


class _Parser(parser.Parser):
    def parse(self, expression: str) -> Any:
        return self._do_parse(expression)  # type: ignore[attr-defined]

    def _parse(self, expression: str) -> Any:
        this: Any = self  # jmespath's parser keeps its state in untyped attributes
        this.tokenizer = _StrictLexer().tokenize(expression)
        this._tokens = list(this.tokenizer)
        this._index = 0
        parsed = this._expression(binding_power=0)
        if this._current_token() != "eof":
            t = this._lookahead_token(0)
            raise jexc.ParseError(
                t["start"], t["value"], t["type"], f"Unexpected token: {t['value']}"
            )
        return parsed

    def _token_nud_expref(self, token: dict[str, Any]) -> Node:
        node = cast(Node, super()._token_nud_expref(token))  # type: ignore[misc]
        node["pos"] = token["start"]
        return node

    def _token_led_lparen(self, left: Node) -> Node:
        name = self._lookahead_token(-2)  # type: ignore[attr-defined]
        node = cast(Node, super()._token_led_lparen(left))  # type: ignore[misc]
        node["pos"] = name["start"]
        return node

    def _parse_slice_expression(self) -> Node:
        bracket = self._lookahead_token(-1)  # type: ignore[attr-defined]
        node = cast(Node, super()._parse_slice_expression())  # type: ignore[misc]
        node["pos"] = bracket["start"]
        return node


def parse(text: str) -> Node:
    """The AST of ``text``; raises jmespath's ParseError (with a position) on bad syntax."""
    return cast(Node, _Parser().parse(text))
