"""The recorded case file: one invocation of one function against its real backends.

::

    {"format": "sff-case/1", "function": "dashboard", "input": {...}, "headers": {...},
     "exchanges": [{"backend": "users",
                    "request": {"method": "GET", "path": "/users/1?x=1", "body": null},
                    "response": {"status": 200, "headers": {...}, "json": {...}}}],
     "calls": {"dashboard.notify": [{...}]},
     "output": {...}}                       # or "error": {"status": 502, "code": "..."}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "sff-case/1"
KEPT_HEADERS = frozenset(
    {"content-type", "cache-control", "etag", "last-modified", "retry-after", "link", "location"}
)
SECRET_HEADERS = frozenset({"set-cookie", "authorization", "x-api-key", "x-request-id"})


class CaseFormatError(Exception):
    """A case file that cannot be read: corrupt, incomplete, or from another format."""


@dataclass
class Exchange:
    backend: str
    method: str
    path: str  # relative to the backend's base URL, query included, as sent
    body: Any
    status: int
    headers: dict[str, str]
    json: Any = None
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "headers": self.headers}
        if self.text is not None:
            response["text"] = self.text
        else:
            response["json"] = self.json
        request = {"method": self.method, "path": self.path, "body": self.body}
        return {"backend": self.backend, "request": request, "response": response}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        request, response = data["request"], data["response"]
        return cls(
            data["backend"],
            request["method"],
            request["path"],
            request.get("body"),
            int(response["status"]),
            dict(response.get("headers", {})),
            response.get("json"),
            response.get("text"),
        )


@dataclass
class Case:
    function: str
    input: Any
    headers: dict[str, str] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    calls: dict[str, list[Any]] = field(default_factory=dict)
    output: Any = None
    error: dict[str, Any] | None = None
    path: Path | None = None
    redacted: list[str] = field(default_factory=list)  # what recording left out, and why

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "function": self.function, "input": self.input}
        if self.headers:
            data["headers"] = self.headers
        if self.redacted:
            data["redacted"] = self.redacted
        data["exchanges"] = [e.to_dict() for e in self.exchanges]
        if self.calls:
            data["calls"] = self.calls
        if self.error is not None:
            data["error"] = self.error
        else:
            data["output"] = self.output
        return data

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=False)
        path.write_text(text + "\n", encoding="utf-8")
        self.path = path
        return path


def load_case(path: Path | str) -> Case:
    """Read a case file; anything wrong with it is a `CaseFormatError` naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CaseFormatError(f"{path}: not a readable JSON case file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format", "none") if isinstance(data, dict) else type(data).__name__
        raise CaseFormatError(
            f"{path}: case format {found!r} is not {FORMAT!r}; "
            f"record it again: sff record <function> --input '<json>'"
        )
    try:
        return _case(data, path)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CaseFormatError(f"{path}: corrupt case file (bad or missing {exc})") from None


def _case(data: dict[str, Any], path: Path) -> Case:
    if "output" not in data and "error" not in data:
        raise KeyError("output")
    return Case(
        function=str(data["function"]),
        input=data.get("input"),
        headers=dict(data.get("headers", {})),
        exchanges=[Exchange.from_dict(e) for e in data["exchanges"]],
        calls={str(k): list(v) for k, v in dict(data.get("calls", {})).items()},
        output=data.get("output"),
        error=dict(data["error"]) if data.get("error") is not None else None,
        path=path,
        redacted=[str(r) for r in data.get("redacted", [])],
    )


def kept_headers(headers: Any) -> dict[str, str]:
    """The response headers worth replaying: content and caching ones, never secrets."""
    kept = {}
    for name, value in headers.items():
        low = name.lower()
        if low in SECRET_HEADERS:  # the rest of the secret ones: `sff.testing.scrub`
            continue
        if low in KEPT_HEADERS or low.startswith("x-"):
            kept[low] = value
    return kept
