"""Function calls compiled: arity and ``&`` checked once, argument types on every call.

jmespath re-reads a function's signature and checks types by Python type *name* on every
call; here each argument gets its check built ahead of time, so a call costs little more
than the function itself. A function that raises anything on odd data fails the expression
cleanly (``expression_failed`` naming the function), never the invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jmespath import exceptions as jexc

from sff._jmes_functions import Ref
from sff._jmes_values import Failure, Refused, kind

Run = Callable[[Any], Any]
Node = dict[str, Any]
Check = Callable[[Any], None]

_SAID = {"array-number": "array of numbers", "array-string": "array of strings"}


def compile_call(
    node: Node, functions: Any, takes_ref: list[str], compile_node: Callable[[Node], Any]
) -> Run:
    name, children, pos = node["value"], node["children"], node.get("pos")
    spec = functions.FUNCTION_TABLE.get(name)
    if spec is None:
        raise Refused(f"unknown function {name}()", pos)
    signature = spec["signature"]
    _check_arity(name, signature, len(children), pos)
    args: list[Run] = []
    checks: list[tuple[int, Check]] = []
    for i, child in enumerate(children):
        types = signature[min(i, len(signature) - 1)]["types"]
        if "expref" in types:
            args.append(_ref(name, i, child, pos, compile_node))
            continue
        if child["type"] == "expref":
            raise Refused(
                f"{name}() argument {i + 1} takes a value, not an expression reference; "
                f"`&` is for {', '.join(takes_ref)}",
                child.get("pos"),
            )
        args.append(compile_node(child))
        if types:
            checks.append((i, _checker(name, i, types)))
    return _caller(name, spec["function"], functions, args, checks)


def _check_arity(name: str, signature: Any, got: int, pos: int | None) -> None:
    variadic = bool(signature) and signature[-1].get("variadic", False)
    # A variadic parameter still needs one argument.
    if got < len(signature) or (not variadic and got > len(signature)):
        wanted = f"{len(signature)}{'+' if variadic else ''}"
        raise Refused(f"{name}() takes {wanted} arguments, got {got}", pos)


def _ref(name: str, i: int, child: Node, pos: int | None, compile_node: Any) -> Run:
    if child["type"] != "expref":
        raise Refused(f"{name}() argument {i + 1} must be an expression reference, e.g. &id", pos)
    ref = Ref(compile_node(child["children"][0]))
    return lambda value: ref


def _checker(name: str, i: int, types: list[str]) -> Check:
    tops = {t.split("-", 1)[0] for t in types}
    subs = {t.split("-", 1)[1] for t in types if "-" in t}
    expected = " or ".join(_SAID.get(t, t) for t in types)

    def check(value: Any) -> None:
        found = kind(value)
        if found not in tops:
            raise Failure(f"{name}() argument {i + 1}: expected {expected}, got {found}")
        if subs and found == "array" and value:
            first = kind(value[0])
            if first not in subs or any(kind(v) != first for v in value):
                raise Failure(f"{name}() argument {i + 1}: expected {expected}")

    return check


def _caller(
    name: str, impl: Any, functions: Any, args: list[Run], checks: list[tuple[int, Check]]
) -> Run:
    def call(values: list[Any]) -> Any:
        for i, check in checks:
            check(values[i])
        try:
            return impl(functions, *values)
        except Failure:
            raise
        except jexc.JMESPathError as exc:
            raise Failure(f"{name}(): {str(exc).splitlines()[0]}") from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            # The data is not echoed: a message may reach a caller, the data may be private.
            raise Failure(f"{name}() cannot take these arguments ({type(exc).__name__})") from None

    if len(args) == 1:
        (only,) = args
        return lambda value: call([only(value)])
    if len(args) == 2:
        first, second = args
        return lambda value: call([first(value), second(value)])
    return lambda value: call([arg(value) for arg in args])
