"""Decoding tracking-spec requests: one call, or a batch whose messages are decoded one by
one (each may fail alone); where the payload limits apply; the browser form's ``writeKey``.

Limits are the spec libraries' own: 32 KB per message and 500 KB per batch request (after
inflating a gzip body; the pipeline reads no more than that), 413 beyond."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from cartwheel.exceptions import BadRequest, InvalidRequest, PayloadTooLarge
from cartwheel.ingest.properties import Part
from cartwheel.kit.body import decode_json

#: The largest message, alone or in a batch.
MAX_MESSAGE_BYTES = 32 * 1024
#: The largest batch request.
MAX_BATCH_BYTES = 500 * 1024


@dataclass(slots=True)
class Message:
    """One call of the spec, with what its request adds to it."""

    data: dict[str, Any]
    #: The call's type: the path's for a single call, else the message's own ``type``.
    type: str | None
    received_at: datetime
    #: A batch's ``sentAt`` and ``context``, which apply to each of its messages.
    sent_at: Any = None
    context: dict[str, Any] = field(default_factory=dict)


class _Batch(msgspec.Struct):
    batch: list[msgspec.Raw]
    sentAt: Any = None
    context: Any = None


class _Keyed(msgspec.Struct):
    writeKey: Any = None


_decode_batch = msgspec.json.Decoder(_Batch).decode
_decode_keyed = msgspec.json.Decoder(_Keyed).decode


def decode(body: bytes, call_type: str) -> Message:
    """One call (``/v1/track``…): a JSON object, its type given by the path."""
    return Message(_object(body, "body"), call_type, datetime.now(UTC))


def decode_batch(body: bytes) -> list[tuple[msgspec.Raw, Message]]:
    """A batch's messages, each still raw (one invalid message is refused alone), with an
    empty :class:`Message` carrying the batch's ``sentAt`` and ``context``."""
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        batch = _decode_batch(body)
    except msgspec.ValidationError:
        value = decode_json(body)  # a 400 if it is not JSON at all
        if not isinstance(value, dict):
            raise InvalidRequest({"body": ["The body must be a JSON object."]}) from None
        raise InvalidRequest(
            {"batch": ["The batch field is required and must be an array of messages."]}
        ) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not batch.batch:
        raise InvalidRequest({"batch": ["The batch must hold at least one message."]})
    context = batch.context if isinstance(batch.context, dict) else {}
    envelope = Message({}, None, datetime.now(UTC), batch.sentAt, context)
    return [(raw, envelope) for raw in batch.batch]


def decode_item(item: tuple[msgspec.Raw, Message]) -> Message:
    raw, envelope = item
    if len(raw) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(f"The message exceeds the {MAX_MESSAGE_BYTES} byte limit.")
    return Message(
        _object(bytes(raw), "message"),
        None,
        envelope.received_at,
        envelope.sent_at,
        envelope.context,
    )


def limited(message: Message) -> Iterable[Part]:
    """``properties`` and ``traits`` are counted; every string of the message (and of its
    batch's context) is checked."""
    data = message.data
    return (
        Part(data.get("properties"), "properties", counted=True, strings=False, level=1),
        Part(data.get("traits"), "traits", counted=True, strings=False, level=1),
        Part(data),
        Part(message.context, "context", level=1),
    )


def write_key(body: bytes) -> str | None:
    """The ``writeKey`` a browser library puts in the body (text/plain), if any."""
    try:
        key = _decode_keyed(body).writeKey
    except msgspec.ValidationError:
        return None  # not an object: the decoder answers for it once the caller is known
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    return key if isinstance(key, str) and key else None


def _object(body: bytes, what: str) -> dict[str, Any]:
    value = decode_json(body)
    if not isinstance(value, dict):
        raise InvalidRequest({what: [f"The {what} must be a JSON object."]})
    return value
