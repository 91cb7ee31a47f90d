"""Reading a JSON body: size checked before reading, msgspec to decode (no domain knowledge)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request

from cartwheel.exceptions import BadRequest, PayloadTooLarge


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than ``max_bytes`` before reading it where possible."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The request body exceeds the {max_bytes} byte limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"The request body exceeds the {max_bytes} byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None


async def read_json(request: Request, max_bytes: int) -> Any:
    return decode_json(await read_body(request, max_bytes))
