"""Bases for the request bodies of Cartwheel's own API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator
from pydantic_core import PydanticCustomError


class RequestBody(BaseModel):
    """A JSON request body. NUL characters are refused anywhere in it: PostgreSQL can store
    them in neither text nor JSONB columns, and such a value never means anything."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise PydanticCustomError("nul", "Text must not contain NUL characters.")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
