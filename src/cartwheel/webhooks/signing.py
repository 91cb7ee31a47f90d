"""Standard Webhooks signatures (https://www.standardwebhooks.com, spec 1.0.0).

Each request carries ``webhook-id`` (the message id, the same on every retry),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,`` + base64 HMAC-SHA256 over ``{id}.{timestamp}.{body}``.

A generated secret is ``whsec_`` + base64 of 32 random bytes, and the HMAC key is those
bytes. A merchant may bring a secret of their own (the document's example is
``"your-secret"``): a ``whsec_`` one is decoded the same way, any other is used as its UTF-8
bytes (verify with ``Webhook(secret.encode())``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
MAX_SECRET_LENGTH = 512


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot be used, or None."""
    if not secret:
        return "The secret may not be empty."
    if len(secret) > MAX_SECRET_LENGTH:
        return f"The secret may not be longer than {MAX_SECRET_LENGTH} characters."
    if secret.startswith(SECRET_PREFIX):
        try:
            key = _decode(secret[len(SECRET_PREFIX) :])
        except (binascii.Error, ValueError):
            key = b""
        if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
            return (
                f"A whsec_ secret must be base64 of {MIN_KEY_BYTES} to {MAX_KEY_BYTES} "
                "random bytes."
            )
    return None


def signing_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        return _decode(secret[len(SECRET_PREFIX) :])
    return secret.encode()


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(signing_key(secret), message_id, timestamp, body),
    }


def _decode(value: str) -> bytes:
    # Accept unpadded base64 too, as the reference libraries do.
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
