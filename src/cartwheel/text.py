"""Single-line text: the identifier, code and name fields of the store data API. Control
characters (``\\x00``-``\\x1f``, ``\\x7f``) never belong there, and a CR/LF stored in a name
is a header injection waiting for the first message built from it."""

from __future__ import annotations

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def has_control_characters(value: str) -> bool:
    return any(ord(ch) < 0x20 or ch == "\x7f" for ch in value)


def check_single_line(value: str) -> str:
    if has_control_characters(value):
        raise PydanticCustomError("invalid", "must not contain control characters")
    return value


#: Refuses control characters. Use as ``Annotated[str, Field(max_length=…), SINGLE_LINE]``:
#: length limits before it, so that they still fail with their own messages.
SINGLE_LINE = AfterValidator(check_single_line)
