"""An OpenAPI 3.1 document for the served functions, from their input models and contracts."""

from __future__ import annotations

from typing import Any

from sff.serve.catalog import Catalog, Route

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": True,
        }
    },
}
ANSWERS = {
    "400": "the input does not fit the input model (names the field)",
    "502": "a required backend failed, the data broke the contract, or the instance crashed",
    "503": "every instance is busy (see Retry-After)",
    "504": "the invocation ran out of time",
}


def document(catalog: Catalog) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in catalog.routes:
        paths.setdefault(route.route, {})[route.method.lower()] = operation(route, catalog)
    return {
        "openapi": "3.1.0",
        "info": {"title": "sff functions", "version": "local"},
        "paths": paths,
        "components": {"schemas": {**catalog.components, "Error": ERROR}},
    }


def operation(route: Route, catalog: Catalog) -> dict[str, Any]:
    info = route.info
    op: dict[str, Any] = {"operationId": info["name"], "summary": info.get("description") or ""}
    model = resolve(info.get("input"), catalog)
    path_names = [name for name in route.pattern.groupindex]
    params = [_parameter(name, {"type": "string"}, True, "path") for name in path_names]
    if route.method == "GET":
        required = set(model.get("required", []))
        params += [
            _parameter(name, schema, name in required, "query")
            for name, schema in model.get("properties", {}).items()
            if name not in path_names
        ]
    elif info.get("input"):
        op["requestBody"] = {
            "required": bool(model.get("required")),
            "content": {"application/json": {"schema": info["input"]}},
        }
    if params:
        op["parameters"] = params
    op["responses"] = responses(info.get("contract"))
    return op


def responses(contract: dict[str, Any] | None) -> dict[str, Any]:
    body = {"application/json": {"schema": contract or {}}}
    ok = {"description": "the contract", "content": body}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answers = {code: {"description": text, "content": error} for code, text in ANSWERS.items()}
    return {"200": ok, **answers}


def resolve(schema: dict[str, Any] | None, catalog: Catalog) -> dict[str, Any]:
    """A top-level ``$ref`` to a component, followed once."""
    if not schema:
        return {}
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = catalog.components.get(ref.rsplit("/", 1)[-1], {})
        return resolved
    return schema


def _parameter(name: str, schema: dict[str, Any], required: bool, where: str) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema}
    if "description" in schema:
        param["description"] = schema["description"]
    return param
