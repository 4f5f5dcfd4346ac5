"""The routes a project serves, learned from a ``--describe`` child process."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sff.routes import compile_route
from sff.serve.instance import Spec


class CatalogError(Exception):
    """The project could not be described at all."""


@dataclass(frozen=True)
class Route:
    """A served function: where it answers, and what it is."""

    method: str
    route: str
    info: dict[str, Any]
    spec: Spec
    pattern: re.Pattern[str]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


@dataclass(frozen=True)
class Broken:
    """A functions module that failed to import: its would-be route answers 500."""

    module: str
    where: str
    error: str
    route: str


@dataclass
class Catalog:
    routes: list[Route] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)
    openapi: dict[str, Any] = field(default_factory=dict)

    def find(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        return [(r, params) for r in self.routes if (params := r.match(path)) is not None]

    def broken_at(self, path: str) -> Broken | None:
        return next((b for b in self.broken if b.route == path.rstrip("/")), None)

    def listing(self) -> list[str]:
        return [str(r) for r in self.routes]


async def load_catalog(root: Path) -> Catalog:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sff.serve.worker", "--describe", str(root),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    if process.returncode != 0 or not out.strip():
        raise CatalogError(f"describing the project in {root} failed (see above)")
    data = json.loads(out)
    if data.get("fatal"):
        raise CatalogError(data["fatal"])
    return build(str(root), data)


def build(root: str, data: dict[str, Any]) -> Catalog:
    catalog = Catalog(openapi=data["openapi"])
    for info in data["functions"]:
        spec = Spec(info["name"], root, info["module"], info["attribute"], info["timeout"])
        pattern = compile_route(info["route"])
        catalog.routes.append(Route(info["method"], info["route"], info, spec, pattern))
    for error in data["errors"]:
        where = error["file"] + (f":{error['line']}" if error.get("line") else "")
        route = "/" + error["module"].rsplit(".", 1)[-1]
        catalog.broken.append(Broken(error["module"], where, error["error"], route))
    return catalog
