"""Swap the target of `call()` sources for the length of a test, without touching the
declaration: the function's plan is replaced and restored."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sff.function import Function
from sff.plan import Node
from sff.spec import CallSource, HttpSource, Source

Target = Callable[..., Awaitable[Any]]


@contextmanager
def patched_sources(
    fn: Function, replace: Mapping[str, Callable[[Node], Source]]
) -> Iterator[Function]:
    """Within the block, source ``name`` of ``fn`` is ``replace[name](its node)``."""
    original = fn.plan
    nodes = dict(original.nodes)
    for name, make in replace.items():
        nodes[name] = dataclasses.replace(nodes[name], source=make(nodes[name]))
    fn.plan = dataclasses.replace(original, nodes=nodes)
    try:
        yield fn
    finally:
        fn.plan = original


def with_target(target: Target) -> Callable[[Node], Source]:
    """A replacement for a call source: same args and options, another callable."""

    def make(node: Node) -> Source:
        assert isinstance(node.source, CallSource)
        return dataclasses.replace(node.source, target=target)

    return make


def with_base(base: str) -> Callable[[Node], Source]:
    """A replacement for an HTTP source: same request and policy, another origin."""

    def make(node: Node) -> Source:
        assert isinstance(node.source, HttpSource)
        backend = dataclasses.replace(node.source.backend, env=None, default=base)
        return dataclasses.replace(node.source, backend=backend)

    return make


def with_header(name: str, value: str) -> Callable[[Node], Source]:
    """A replacement for an HTTP source whose backend sends one more header."""

    def make(node: Node) -> Source:
        assert isinstance(node.source, HttpSource)
        headers = {**node.source.backend.headers, name: value}
        backend = dataclasses.replace(node.source.backend, headers=headers)
        return dataclasses.replace(node.source, backend=backend)

    return make


def http_sources(fn: Function) -> list[str]:
    return [n for n, node in fn.plan.nodes.items() if isinstance(node.source, HttpSource)]


def callable_sources(fn: Function) -> list[str]:
    """Sources that call a plain async callable (a service SDK), not another Function."""
    return [
        name
        for name, node in fn.plan.nodes.items()
        if isinstance(node.source, CallSource) and not isinstance(node.source.target, Function)
    ]
