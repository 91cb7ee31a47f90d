"""Documenting request bodies that endpoints decode themselves (msgspec, on the hot path).

FastAPI documents a body only when it parses it. Endpoints that read the raw body for speed
declare it with :func:`json_body`, which takes a pydantic model used *only* for the
OpenAPI document; :func:`install` adds the models' schemas to ``components.schemas``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"
_COMPONENTS: dict[str, dict[str, Any]] = {}


def json_body(
    model: type[BaseModel],
    *,
    examples: dict[str, Any] | None = None,
    required: bool = True,
) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body has the shape of ``model``.

    ``examples`` maps an example name to ``{"summary": ..., "value": ...}``."""
    content: dict[str, Any] = {"schema": schema_ref(model)}
    if examples:
        content["examples"] = examples
    return {"requestBody": {"required": required, "content": {"application/json": content}}}


def schema_ref(model: type[BaseModel]) -> dict[str, Any]:
    """``{"$ref": ...}`` to ``model`` in ``components.schemas`` (registered there), for
    documenting content FastAPI does not produce itself, e.g. ``application/problem+json``."""
    schema = model.model_json_schema(ref_template=_REF)
    for name, definition in schema.pop("$defs", {}).items():
        _COMPONENTS[name] = definition
    _COMPONENTS[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the schemas registered by :func:`json_body`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in _COMPONENTS.items():
            schemas.setdefault(name, schema)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
