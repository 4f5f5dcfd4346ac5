"""What the gateway knows of a project, computed in a child process so the gateway never
imports user code (and ``--reload`` only has to ask again).

Routes and methods come from each Function, and the OpenAPI document from `sff.openapi`
(with the 503 a busy local platform may answer).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sff.function import Function

ANSWERS = {
    "400": "the input does not fit the input model (names the field)",
    "502": "a required backend failed, the data broke the contract, or the instance crashed",
    "503": "every instance is busy (see Retry-After)",
    "504": "the invocation ran out of time",
}


def describe(root: str) -> dict[str, Any]:
    from sff.project import ProjectError, load_project

    try:
        project = load_project(Path(root))
    except ProjectError as exc:
        return {"fatal": str(exc), "functions": [], "errors": [], "openapi": {}}
    functions = []
    for found in project.functions:
        fn = found.function
        functions.append(
            {
                "name": fn.name,
                "module": found.module,
                "attribute": found.attribute,
                "route": fn.route,
                "method": fn.method,
                "description": fn.description,
                "timeout": fn.timeout,
                "max_input_bytes": fn.max_input_bytes,
                "file": project.relative(found.file),
            }
        )
    errors = [
        {
            "module": e.module,
            "file": project.relative(e.file),
            "line": e.line,
            "error": f"{type(e.error).__name__}: {e.error}".splitlines()[0][:300],
        }
        for e in project.errors
    ]
    return {
        "root": str(project.root),
        "functions": functions,
        "errors": errors,
        "openapi": openapi([f.function for f in project.functions]),
    }


def openapi(functions: list[Function]) -> dict[str, Any]:
    from sff.openapi import document

    return document(functions, version="local", errors=ANSWERS)
