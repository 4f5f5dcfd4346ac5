"""The shape's result held against the contract: unknown keys, missing required fields,
and an array, object or scalar where the contract wants another kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sff import typeinfo as ti
from sff.errors import DeclarationError
from sff.expr import Expr
from sff.infer import Path, did_you_mean
from sff.typeinfo import UNKNOWN, Rec

if TYPE_CHECKING:
    from sff.fields import Checker


class Fit:
    """The shape's result held against the contract."""

    def __init__(self, checker: Checker, contract: str) -> None:
        self.checker, self.contract = checker, contract

    def tree(self, tree: Any, want: Any, place: str) -> None:
        if isinstance(tree, Expr):
            got = self.checker.expr(tree, self.checker.scope())
            self.expr(tree, got, want, ())
        elif isinstance(tree, dict):
            model = _one_object(want)
            if model is not None:
                self.keys(set(tree), model, place, None)
                known = ti.fields(model) or {}
                for key, child in tree.items():
                    self.tree(child, known.get(key, UNKNOWN), f"{place}.{key}")
            else:
                for key, child in tree.items():
                    self.tree(child, UNKNOWN, f"{place}.{key}")
        elif isinstance(tree, list):
            each = ti.element(want) if ti.kinds(want) == {"array"} else UNKNOWN
            for i, child in enumerate(tree):
                self.tree(child, each, f"{place}[{i}]")

    def keys(self, keys: set[str], model: Any, place: str, blame: Any) -> None:
        known = ti.fields(model)
        if known is None:
            return
        for key in sorted(keys - set(known)):
            self.fail(
                f"shape key {key!r} is not a field of contract {ti.name(model)}"
                + did_you_mean(key, sorted(known)),
                place,
                blame,
                key,
            )
        missing = [k for k in ti.required(model) if k not in keys]
        if missing:
            self.fail(
                f"contract {ti.name(model)} requires field {missing[0]!r}, "
                "which the shape never builds",
                place,
                blame,
                None,
            )

    def expr(self, expr: Expr, got: Any, want: Any, path: Path) -> None:
        gk, wk = ti.kinds(got), ti.kinds(want)
        if "unknown" in gk or "unknown" in wk:
            return
        gots, wants = ti.alternatives(got), ti.alternatives(want)
        if len(gots) == 1 and len(wants) == 1:
            self.one(expr, gots[0], wants[0], path)
        elif not _compatible_kinds(gk, wk):
            self.mismatch(expr, got, want, path)

    def one(self, expr: Expr, got: Any, want: Any, path: Path) -> None:
        gk, wk = ti.kind(got), ti.kind(want)
        if gk == "object" and wk == "object":
            if isinstance(got, Rec):
                self.keys(set(got.fields), want, "", (expr, got))
                known = ti.fields(want) or {}
                for key, sub in got.fields.items():
                    self.expr(expr, sub, known.get(key, UNKNOWN), got.where.get(key, path))
            else:
                missing = [k for k in ti.required(want) if k not in (ti.fields(got) or {})]
                if missing and ti.fields(got) is not None:
                    raise _located(
                        expr,
                        path,
                        f"contract {ti.name(want)} requires field {missing[0]!r}, but the "
                        f"shape gives {ti.name(got)}, which has no such field",
                    )
        elif gk == "array" and wk == "array":
            self.expr(expr, ti.element(got), ti.element(want), path)
        elif gk == "scalar" and wk == "scalar":
            number = ti.scalar_kind(got) in ("number", "boolean")
            if number and ti.scalar_kind(want) == "string":  # pydantic never makes text of it
                self.mismatch(expr, got, want, path)
        elif not _compatible_kinds({gk}, {wk}):
            self.mismatch(expr, got, want, path)

    def mismatch(self, expr: Expr, got: Any, want: Any, path: Path) -> None:
        raise _located(
            expr,
            path,
            f"contract {self.contract or 'field'} expects {ti.name(want)} here, "
            f"the shape gives {ti.name(got)}",
        )

    def fail(self, reason: str, place: str, blame: Any, key: str | None) -> None:
        if blame is not None:
            expr, rec = blame
            first = next(iter(rec.where.values()), (0,))
            raise _located(expr, rec.where.get(key, first) if key else first[:-1], reason)
        fn = self.checker.fn.name
        raise DeclarationError(f"function {fn!r}, {place}: {reason}", function=fn, where=place)


def _one_object(tp: Any) -> Any:
    alts = ti.alternatives(tp)
    if len(alts) == 1 and ti.kind(alts[0]) == "object":
        return alts[0]
    return None


def _compatible_kinds(got: set[ti.Kind], want: set[ti.Kind]) -> bool:
    """Whether pydantic could accept some value of ``got`` for ``want`` (a JSON object
    fits a model or a dict alike)."""
    widen: dict[str, str] = {"map": "object"}
    return bool({widen.get(k, k) for k in got} & {widen.get(k, k) for k in want})


def _located(expr: Expr, path: Path, reason: str) -> Exception:
    from sff.fields import located

    return located(expr, path, reason)
