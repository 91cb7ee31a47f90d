"""Single-line text: identifier, code and name fields, in the store data API and in every
wire format (the canonical ingest checks events with :data:`CONTROL_CHARACTERS`). Control
characters never belong there, and a CR/LF stored in a name is a header injection waiting
for the first message built from it."""

from __future__ import annotations

import re

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

#: C0 and C1 controls (``\\x00``-``\\x1f``, ``\\x7f``-``\\x9f``: CR, LF, NEL…) and the
#: Unicode line and paragraph separators (U+2028, U+2029), which end a line in JavaScript.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def check_single_line(value: str) -> str:
    if has_control_characters(value):
        raise PydanticCustomError("invalid", "must not contain control characters")
    return value


#: Refuses control characters. Use as ``Annotated[str, Field(max_length=…), SINGLE_LINE]``:
#: length limits before it, so that they still fail with their own messages.
SINGLE_LINE = AfterValidator(check_single_line)
