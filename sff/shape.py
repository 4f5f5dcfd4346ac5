"""Reshape the context with JMESPath, then validate it into the frontend contract.

A contract violation is reported with the contract field, what it expected, and the
shape expression that produced the value, so the fix is obvious from the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from sff import finite
from sff._record import record
from sff.errors import ContractError, DeclarationError
from sff.expr import Expr, Value, Where, compile_value

# items: a contract's list of models this long is validated item by item (sff.itemwise)
CHUNKED_FROM = 1024


@record(frozen=True)
class Shape:
    function: str
    value: Value | None
    contract: type[BaseModel] | None

    @property
    def names(self) -> frozenset[str]:
        return self.value.names if self.value else frozenset()

    def apply(self, context: Mapping[str, Any]) -> Any:
        """Shaped and validated data: a contract instance, or plain JSON without one."""
        return self.validate(self.render(context))

    def render(self, context: Mapping[str, Any]) -> Any:
        """The shaped data, before the contract."""
        return self.value.render(context) if self.value else _sources_only(context)

    def validate(self, data: Any) -> Any:
        """``data`` into the contract (its validator is built once, with the class)."""
        if self.contract is None:
            return data
        if self._made_here(data) and _long_list_in(data):
            from sff.itemwise import validate_lists  # only a large answer needs it

            validate_lists(self.contract, data, CHUNKED_FROM)
        try:
            shaped = self.contract.model_validate(data)
        except ValidationError as exc:
            raise self._mismatch(exc) from None
        path = finite.where(self.contract, shaped)
        if path is not None:  # JSON has no NaN or Infinity: pydantic would dump a null
            raise self._mismatch(finite.not_finite(self.contract, path, shaped)) from None
        return shaped

    def _made_here(self, data: Any) -> bool:
        """Whether ``data`` is a dict this shape made (its own, to change), not a source's."""
        return self.value is not None and isinstance(self.value.tree, dict) and bool(data)

    def _mismatch(self, exc: ValidationError) -> ContractError:
        first = exc.errors(include_url=False)[0]
        loc = [str(p) for p in first["loc"]]
        field = ".".join(loc) or "(root)"
        expr = self._producer(loc)
        got = _short(first.get("input"))
        assert self.contract is not None
        return ContractError(
            f"function {self.function!r}: contract {self.contract.__name__} field {field!r}: "
            f"{first['msg']} (got {got}), produced by shape expression `{expr}`",
            function=self.function,
            contract=self.contract.__name__,
            field=field,
            expected=first["type"],
            expression=expr,
            problems=len(exc.errors()),
        )

    def _producer(self, loc: list[str]) -> str:
        """The deepest shape expression on the path to the failing field."""
        node = self.value.tree if self.value else None
        for part in loc:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, dict):  # the contract wants a key the shape never builds
                return f"(not in the shape: {part!r})"
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                break
        return node.text if isinstance(node, Expr) else "(literal)" if node is not None else "*"


def _sources_only(context: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in context.items() if k not in ("input", "meta")}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compile_shape(function: str, shape: Any, contract: type[BaseModel] | None) -> Shape:
    if contract is not None and not (
        isinstance(contract, type) and issubclass(contract, BaseModel)
    ):
        raise DeclarationError(f"function {function!r}: contract must be a pydantic model class")
    value = None if shape is None else compile_value(shape, Where(function, "shape"))
    return Shape(function, value, contract)


def _long_list_in(data: dict[str, Any]) -> bool:
    return any(type(v) is list and len(v) >= CHUNKED_FROM for v in data.values())
