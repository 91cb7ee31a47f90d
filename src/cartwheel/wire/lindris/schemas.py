"""OpenAPI schemas of the Lindris endpoints.

The request models are built from the field tables of :mod:`.requests` (the same tables the
validator runs), so the documented schema is exactly what is enforced. They are used only
to document the bodies: requests are decoded with msgspec and validated by
:mod:`.validation`, which gives Laravel's messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, create_model

from cartwheel.wire.lindris.requests import EVENT_TYPES, GENERIC_FIELDS
from cartwheel.wire.lindris.validation import FieldSpec

_SCALARS: dict[str, Any] = {
    "string": str,
    "id": str | float,
    "number": float,
    "integer": int,
    "boolean": bool,
    "date": datetime,
    "email": str,
    "uuid": UUID,
    "strings": list[str],
    "map": dict[str, Any],
}


def _annotation(model_name: str, spec: FieldSpec) -> Any:
    if spec.kind == "object":
        return request_model(model_name + _camel(spec.name), spec.fields)
    if spec.kind == "objects":
        return list[request_model(model_name + _camel(spec.name), spec.fields)]  # type: ignore[misc]
    return _SCALARS[spec.kind]


def request_model(name: str, specs: tuple[FieldSpec, ...]) -> type[BaseModel]:
    """A documentation-only pydantic model of a field table."""
    definitions: dict[str, Any] = {}
    for index, spec in enumerate(specs):
        annotation = _annotation(name, spec)
        extra: dict[str, Any] = {}
        if spec.kind == "email":
            extra["format"] = "email"
        if spec.max_length is not None:
            extra["maxLength"] = spec.max_length
        if spec.pattern is not None:
            extra["pattern"] = f"^{spec.pattern}$"
        info = Field(
            ... if spec.required else None,
            alias=spec.name,
            title=spec.name,
            description=spec.description,
            examples=[spec.example] if spec.example is not None else None,
            json_schema_extra=extra or None,
        )
        # Python names stay valid identifiers (``_ls`` would be private); the alias is the
        # documented key.
        definitions[f"field_{index}"] = (annotation if spec.required else annotation | None, info)
    return create_model(name, __config__=ConfigDict(extra="ignore"), **definitions)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


GenericEventRequest = request_model("LindrisGenericEvent", GENERIC_FIELDS)

#: ``type`` → the documentation model of that lifecycle endpoint's body.
LIFECYCLE_REQUESTS: dict[str, type[BaseModel]] = {
    name: request_model(f"Lindris{_camel(name)}Event", event_type.fields)
    for name, event_type in EVENT_TYPES.items()
}


class LindrisEventAccepted(BaseModel):
    success: bool = Field(description="Always true: the event was accepted.", examples=[True])
    timestamp: int = Field(
        description="When the event was received, in Unix seconds.", examples=[1710969645]
    )
    uuid: str | None = Field(
        default=None,
        description="The person's uuid. Send it as `uuid` in later events instead of email "
        "or referenceId. Absent for a `test` event about a person not yet known.",
        examples=["318835f4-f968-4894-9847-358399823d6c"],
    )


class LindrisError(BaseModel):
    message: str = Field(description="What went wrong.", examples=["Unauthenticated."])


class LindrisValidationError(BaseModel):
    message: str = Field(
        description="Always `The given data was invalid.`",
        examples=["The given data was invalid."],
    )
    errors: dict[str, list[str]] = Field(
        description="Field path (`products.0.id` for list items) → its messages."
    )


_RATE_LIMIT_HEADERS = {
    "Retry-After": "Seconds to wait before retrying.",
    "X-RateLimit-Limit": "Requests allowed per window.",
    "X-RateLimit-Remaining": "Requests left in this window (0).",
    "X-RateLimit-Reset": "Unix time when requests are allowed again.",
}


def error_responses(invalid_example: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a Lindris endpoint; ``invalid_example`` is its 422 body."""
    return {
        200: {"model": LindrisEventAccepted, "description": "The event was accepted."},
        400: {"model": LindrisError, "description": "A payload limit was exceeded."},
        401: {
            "model": LindrisError,
            "description": "Missing or invalid API key: `Unauthenticated.`",
        },
        404: {"model": LindrisError, "description": "Unknown event type or action."},
        413: {"model": LindrisError, "description": "The request body is too large."},
        422: {
            "model": LindrisValidationError,
            "description": "Validation failed.",
            "content": {"application/json": {"example": invalid_example}},
        },
        429: {
            "model": LindrisError,
            "description": "Rate limit exceeded: `Too Many Attempts.`",
            "headers": {
                name: {"description": description, "schema": {"type": "integer"}}
                for name, description in _RATE_LIMIT_HEADERS.items()
            },
        },
    }


__all__ = [
    "GenericEventRequest",
    "LindrisError",
    "LindrisEventAccepted",
    "LindrisValidationError",
    "error_responses",
]
