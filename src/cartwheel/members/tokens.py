"""Single sign-on tokens: compact JWTs (HS256) signed with the store's key.

The signature lets a redemption refuse a forged or altered token before touching the token
table; the table (one row per token, stored as a digest) is what makes a token single-use.
Passwords are hashed here too (argon2id)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from argon2 import PasswordHasher

_HEADER = {"alg": "HS256", "typ": "JWT"}
_hasher = PasswordHasher()


def new_key() -> str:
    return secrets.token_hex(32)


def sign(claims: dict[str, Any], key: str) -> str:
    """A compact JWT of ``claims``; ``jti`` makes every token unique."""
    # Two tokens for one member in the same second would otherwise be identical, and so
    # share one digest row (and one use).
    claims = {**claims, "jti": secrets.token_urlsafe(16)}
    signing_input = _encode(_HEADER) + "." + _encode(claims)
    return signing_input + "." + _b64(_mac(signing_input, key))


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of a well-formed token, before its signature is checked."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def verify(token: str, key: str) -> bool:
    signing_input, _, signature = token.rpartition(".")
    # Constant-time comparison: the time taken must not reveal how much of it matched.
    try:
        given = _unb64(signature)
    except ValueError:
        return False
    return hmac.compare_digest(given, _mac(signing_input, key))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _mac(signing_input: str, key: str) -> bytes:
    return hmac.new(bytes.fromhex(key), signing_input.encode(), hashlib.sha256).digest()


def _encode(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc
