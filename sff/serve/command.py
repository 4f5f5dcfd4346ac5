"""The ``sff serve`` command: ``configure(parser)`` adds its flags, ``run(args)`` serves
until Ctrl-C or SIGTERM and returns the exit code."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sff.serve.options import configure, from_args

__all__ = ["configure", "main", "run"]


def run(args: argparse.Namespace) -> int:
    from sff.project import ProjectError, find_root
    from sff.serve.catalog import CatalogError
    from sff.serve.server import serve

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if missing := missing_packages():
        from sff.distribution import install_hint

        print(f"sff serve needs {' and '.join(missing)}: {install_hint('serve')}", file=sys.stderr)
        return 1
    try:
        root = (args.root or find_root()).resolve()
        return asyncio.run(serve(from_args(args, root)))
    except (ProjectError, CatalogError, OSError) as exc:
        print(f"sff serve: {exc}", file=sys.stderr)
        return 1


def missing_packages() -> list[str]:
    """The serve extra's packages that are not installed (found without importing them)."""
    from importlib.util import find_spec

    return [name for name in ("uvicorn", "swagger_ui") if find_spec(name) is None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sff serve", description="a local function platform")
    configure(parser)
    return run(parser.parse_args(argv))
