"""What the gateway knows of a project, computed in a child process so the gateway never
imports user code (and ``--reload`` only has to ask again).

Routes and methods come from each Function; the input and contract models become JSON
Schemas whose definitions share one ``components`` map, ready for the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

REF = "#/components/schemas/{model}"


def describe(root: str) -> dict[str, Any]:
    from sff.project import ProjectError, load_project

    try:
        project = load_project(Path(root))
    except ProjectError as exc:
        return {"fatal": str(exc), "functions": [], "errors": [], "components": {}}
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for found in project.functions:
        fn = found.function
        models += [(fn.input, "validation")] if fn.input else []
        models += [(fn.contract, "serialization")] if fn.contract else []
    refs, components = models_json_schema(models, ref_template=REF) if models else ({}, {})
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
                "input": refs.get((fn.input, "validation")) if fn.input else None,
                "contract": refs.get((fn.contract, "serialization")) if fn.contract else None,
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
        "components": components.get("$defs", {}),
    }
