"""Reading a JSON body: size checked before reading, nesting before decoding, msgspec to
decode (no domain knowledge)."""

from __future__ import annotations

import re
import zlib
from itertools import accumulate
from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request

from cartwheel.exceptions import BadRequest, PayloadTooLarge, UnsupportedMediaType

#: The deepest nesting of objects and arrays a request body may have. Every decoder and
#: every walker of a decoded value recurses, so a deeper body is refused before decoding;
#: the ingest's own, lower limit on event values is ``CARTWHEEL_MAX_JSON_DEPTH``.
MAX_BODY_DEPTH = 64

# A JSON string once its escaped backslashes and quotes are gone, or an unterminated one to
# the end: it always matches where it starts, so a search is one linear pass.
_STRING = re.compile(rb'"[^"]*"?')
# Everything but brackets, to delete.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# A bracket's change of depth, by byte.
_STEP = tuple(1 if b in b"[{" else -1 for b in range(256))


class TooDeep(BadRequest):
    """The body nests objects and arrays deeper than :data:`MAX_BODY_DEPTH`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is nested deeper than {limit} levels.")
        self.limit = limit


#: ``Content-Encoding`` values a body may arrive in (analytics SDKs gzip their batches).
GZIP_ENCODINGS = frozenset(("gzip", "x-gzip"))


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than ``max_bytes`` before reading it where possible. A
    gzip body (``Content-Encoding: gzip``) is inflated, and refused as soon as it inflates
    past ``max_bytes``: a compressed bomb costs at most ``max_bytes`` of memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The request body exceeds the {max_bytes} byte limit.")
    encoding = (request.headers.get("content-encoding") or "identity").strip().lower()
    if encoding not in GZIP_ENCODINGS and encoding != "identity":
        raise UnsupportedMediaType(
            "The request body's Content-Encoding is not supported; send identity or gzip."
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"The request body exceeds the {max_bytes} byte limit.")
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to answer; an expected failure, not a server error in the log.
        raise BadRequest("The client disconnected before sending the whole body.") from None
    body = b"".join(chunks)
    if encoding in GZIP_ENCODINGS:
        body = gunzip(body, max_bytes)
    check_depth(body)
    return body


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """``data`` inflated (one gzip member), never holding more than ``max_bytes + 1`` bytes
    of output: :class:`PayloadTooLarge` past ``max_bytes``, 400 if it is not gzip."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(data, max_bytes + 1)
    except zlib.error:
        raise BadRequest("The request body is not valid gzip.") from None
    if len(body) > max_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"The request body exceeds the {max_bytes} byte limit once inflated.")
    if not inflater.eof:
        raise BadRequest("The request body is not valid gzip: it ends early.")
    return body


def check_depth(body: bytes, limit: int = MAX_BODY_DEPTH) -> None:
    """Raise :class:`TooDeep` if ``body`` nests deeper than ``limit``, without decoding it:
    O(n) in C (count, regex, translate) except one step per bracket outside strings, and
    only counting when there are more opening brackets than ``limit``. A malformed body
    is measured as it stands; the decoder refuses it anyway."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    # Inside a string a backslash escapes the next byte; outside one it is malformed JSON.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", unescaped).translate(None, _NOT_BRACKETS)
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit:
        raise TooDeep(limit)


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None


async def read_json(request: Request, max_bytes: int) -> Any:
    return decode_json(await read_body(request, max_bytes))
