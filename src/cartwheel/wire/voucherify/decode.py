"""Decoding a Voucherify client event, with Voucherify's messages (``Property .customer.email
must be …``). When msgspec refuses the body, :func:`cartwheel.kit.structure.first_problem`
says which property is wrong and how; the message is worded here, never taken from msgspec."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from cartwheel.ingest.properties import Part
from cartwheel.kit.structure import Problem, decode_loose, first_problem
from cartwheel.wire.voucherify.errors import VoucherifyError, invalid_payload
from cartwheel.wire.voucherify.schemas import ClientEvent

_decode = msgspec.json.Decoder(ClientEvent).decode

_TYPES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
}


def decode(body: bytes) -> ClientEvent:
    if not body.strip():
        raise invalid_payload("Request body is empty.")
    try:
        payload = _decode(body)
    except msgspec.ValidationError:
        raise invalid_payload(_explain(body)) from None
    except msgspec.DecodeError:
        raise invalid_payload("Request body is not valid JSON.") from None
    if payload.customer is None:
        raise VoucherifyError(
            400, "missing_customer", "Missing customer", "Property .customer is required."
        )
    return payload


def _explain(body: bytes) -> str:
    try:
        value = decode_loose(body)
    except msgspec.DecodeError:  # msgspec may stop at a bad field before reaching the end
        return "Request body is not valid JSON."
    return _details(first_problem(ClientEvent, value))


def limited(payload: ClientEvent) -> Iterable[Part]:
    """The event's and the customer's metadata (counted), then every string of the request."""
    customer = payload.customer
    return (
        Part(payload.metadata, counted=True, level=1),
        Part(customer.metadata if customer is not None else None, counted=True, level=2),
        Part(msgspec.to_builtins(payload), "body"),
    )


def _details(problem: Problem | None) -> str:
    """A structural problem in Voucherify's words."""
    if problem is None:  # msgspec refused what the structure allows: say so plainly
        return "Request body is invalid."
    path = "".join(f".{part}" for part in problem.path)
    if problem.kind == "missing":
        return f"Property {path} is required."
    prop = f"Property {path}" if path else "Request body"
    if problem.kind in ("min_length", "max_length"):
        unit = "character" if problem.bound == 1 else "characters"
        word = "least" if problem.kind == "min_length" else "most"
        return f"{prop} must be at {word} {problem.bound} {unit} long."
    if problem.kind == "type":
        kinds = [_TYPES.get(name, name) for name in problem.expected if name != "null"]
        return f"{prop} must be {' or '.join(kinds)}."
    return f"{prop} is invalid."
