"""Generating and hashing secrets. Secrets are random 256-bit tokens, so a plain SHA-256
digest is a safe, constant-cost lookup key (no slow KDF needed, unlike passwords)."""

from __future__ import annotations

import hashlib
import secrets

SECRET_KEY_PREFIX = "cw_sk_"
WRITE_KEY_PREFIX = "cw_wk_"
CLIENT_APP_PREFIX = "cw_app_"
CLIENT_TOKEN_PREFIX = "cw_ct_"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
