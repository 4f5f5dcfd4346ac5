"""Where sff comes from: its distribution name on the package index and, when it runs from
a checkout, that checkout.

The import package and the command are ``sff``, but the name ``sff`` on the public index
belongs to an unrelated project, so sff is distributed as ``serverless-for-frontend``:
``pip install "serverless-for-frontend[asgi]"``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

NAME = "serverless-for-frontend"


def requirement(extra: str | None = None) -> str:
    """``serverless-for-frontend`` or ``serverless-for-frontend[extra]``."""
    return f"{NAME}[{extra}]" if extra else NAME


def install_hint(extra: str) -> str:
    """The command that adds an optional part, for error messages."""
    return f'pip install "{requirement(extra)}"'


def checkout() -> Path | None:
    """The source tree sff runs from (an editable install or a clone on sys.path), or None
    when sff was installed from a wheel."""
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        declared = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if declared == NAME else None


def canonical(name: str) -> str:
    """A distribution name as the index compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()
