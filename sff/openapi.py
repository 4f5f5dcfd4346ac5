"""An OpenAPI 3.1 document for functions, from their input models and contracts: one
path per function (its method and route), the input as query parameters (GET, HEAD,
DELETE) or a JSON body, the contract as the 200 answer, one error schema for the rest.
Pure: `sff schema` and `sff serve` both describe functions with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sff.routes import PARAM

if TYPE_CHECKING:
    from sff.function import Function

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "request_id": {"type": "string"},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
ERRORS = {
    "400": "Invalid input: the message names the field",
    "502": "A required backend failed, or its data does not fit the contract",
    "504": "The function ran out of time",
}
_QUERY_METHODS = ("GET", "HEAD", "DELETE")


def document(
    functions: Iterable[Function],
    *,
    title: str = "sff functions",
    version: str = "1",
    errors: Mapping[str, str] = ERRORS,
) -> dict[str, Any]:
    """The document; ``errors`` maps each error status to its description."""
    fns = list(functions)
    refs, schemas = _components(fns)
    paths: dict[str, Any] = {}
    for fn in fns:
        paths.setdefault(fn.route, {})[fn.method.lower()] = _operation(fn, refs, schemas, errors)
    schemas["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _components(fns: list[Function]) -> tuple[dict[Any, Any], dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Any]] = []
    for fn in fns:
        if fn.input is not None:
            wanted.append((fn.input, "validation"))
        if fn.contract is not None:
            wanted.append((fn.contract, "serialization"))
    if not wanted:
        return {}, {}
    refs, top = models_json_schema(
        list(dict.fromkeys(wanted)), ref_template="#/components/schemas/{model}"
    )
    return dict(refs), dict(top.get("$defs", {}))


def _operation(
    fn: Function, refs: dict[Any, Any], schemas: dict[str, Any], errors: Mapping[str, str]
) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": fn.name}
    if fn.description:
        operation["summary"] = fn.description
    in_path = PARAM.findall(fn.route)
    model: dict[str, Any] = {}
    if fn.input is not None:
        ref = refs[(fn.input, "validation")]
        model = schemas[ref["$ref"].rsplit("/", 1)[-1]]
    # A path parameter is typed as the input model types it (int >= 1, say), not as text.
    props = model.get("properties", {})
    params = [
        _parameter(name, props.get(name, {"type": "string"}), True, "path") for name in in_path
    ]
    if fn.input is not None:
        if fn.method in _QUERY_METHODS:
            required = set(model.get("required", []))
            params += [
                _parameter(name, prop, name in required, "query")
                for name, prop in model.get("properties", {}).items()
                if name not in in_path
            ]
        else:
            body = {"application/json": {"schema": ref}}
            operation["requestBody"] = {"required": bool(model.get("required")), "content": body}
    if params:
        operation["parameters"] = params
    output = refs[(fn.contract, "serialization")] if fn.contract is not None else {}
    ok = {"description": "The contract", "content": {"application/json": {"schema": output}}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answers = {**errors, **_propagated(fn)}
    operation["responses"] = {
        "200": ok,
        **{
            status: {"description": text, "content": error}
            for status, text in sorted(answers.items())
        },
    }
    return operation


def _propagated(fn: Function) -> dict[str, str]:
    """The statuses a required source passes on as the answer's (``propagate=``)."""
    from sff.propagate import description

    found: dict[str, list[str]] = {}
    for name in fn.plan.order:
        for status in sorted(fn.plan.nodes[name].source.options.propagate):
            found.setdefault(str(status), []).append(description(name, status))
    return {status: "; ".join(texts) for status, texts in found.items()}


def _parameter(name: str, schema: dict[str, Any], required: bool, where: str) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema}
    if "description" in schema:
        param["description"] = schema["description"]
    return param
