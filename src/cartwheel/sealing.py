"""Secrets at rest: webhook signing secrets and the stores' SSO signing keys are stored
encrypted (Fernet: AES-128-CBC with HMAC-SHA256, from ``cryptography``) under the
application key, and decrypted when read. docs/security.md is the operator's side.

- **Keys.** ``CARTWHEEL_SECRET_KEYS`` (comma-separated Fernet keys) or, when it is empty,
  the key file ``CARTWHEEL_SECRET_KEY_FILE`` (one key per line; by default
  ``cartwheel-secret.key`` beside the SQLite database, or in the working directory). A
  missing key file is generated on first start, readable by its owner only (0600). The
  first key encrypts; every key decrypts, so a rotation puts the new key first.
- **Columns.** A column typed :class:`SealedText` encrypts on write and decrypts on read,
  so no service handles ciphertext. A stored value without the ``enc:v1:`` prefix is a
  secret written before encryption existed and is read as it is.
- **Resealing.** :func:`reseal` (run at every start, ``app.build_runtime``) encrypts such
  legacy values and re-encrypts values under an older key with the first one.

The keyring is process-wide (:func:`configure`), because the column type has no other way
to reach it; a process that never configured one loads it from the environment.
"""

from __future__ import annotations

import hmac
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, String, Text, literal, select, type_coerce, update
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator

from cartwheel.config import Settings, get_settings

log = logging.getLogger(__name__)

PREFIX = "enc:v1:"
DEFAULT_KEY_FILE = "cartwheel-secret.key"


class SecretKeyError(RuntimeError):
    """The application key is missing or cannot decrypt a stored secret."""


class Keyring:
    """Fernet keys: the first encrypts, every one decrypts."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError("No secret key is configured.")
        try:
            fernets = [Fernet(key) for key in keys]
        except ValueError:
            raise SecretKeyError(
                "A secret key is not a Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
        self._primary = fernets[0]
        self._all = MultiFernet(fernets)
        self._keys = list(keys)

    def mac_keys(self, purpose: str) -> list[bytes]:
        """HMAC keys for ``purpose``, derived from every key: the first signs, all verify
        (so signed links outlive a key rotation)."""
        return [hmac.digest(key, purpose.encode(), "sha256") for key in self._keys]

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._primary.encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before secrets were encrypted; resealed at start
        try:
            return self._all.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "A stored secret cannot be decrypted with any configured secret key."
            ) from None

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` is encrypted under the first key."""
        if not stored.startswith(PREFIX):
            return False
        try:
            self._primary.decrypt(stored[len(PREFIX) :].encode())
        except InvalidToken:
            return False
        return True


def key_file_path(settings: Settings) -> Path:
    if settings.secret_key_file:
        return Path(settings.secret_key_file)
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / DEFAULT_KEY_FILE
    return Path.cwd() / DEFAULT_KEY_FILE


def load_keyring(settings: Settings) -> Keyring:
    """The configured keys, or the key file's, generating the file when it is missing."""
    if settings.secret_keys.strip():
        return Keyring([k.strip().encode() for k in settings.secret_keys.split(",") if k.strip()])
    path = key_file_path(settings)
    try:
        # O_EXCL: two processes starting at once never write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]
        if path.stat().st_mode & 0o077:
            log.warning("secret key file is readable by others", extra={"path": str(path)})
        return Keyring(keys)
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    log.warning("secret key generated; back it up", extra={"path": str(path)})
    return Keyring([key])


_keyring: Keyring | None = None


def configure(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        configure(load_keyring(get_settings()))
    assert _keyring is not None
    return _keyring


class SealedText(TypeDecorator[str]):
    """Text stored encrypted under the application key (see the module docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else keyring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else keyring().decrypt(str(value))


def reseal(connection: Any) -> int:
    """Encrypt every sealed value that is not yet under the first key (legacy plain values
    and values under an older key), in the caller's transaction; how many changed."""
    from cartwheel.models import Base  # the models import this module

    ring = keyring()
    changed = 0
    for table in Base.metadata.tables.values():
        key = list(table.primary_key.columns)
        for column in table.columns:
            if not isinstance(column.type, SealedText):
                continue
            raw = type_coerce(column, String)  # the stored text, not decrypted
            for row in connection.execute(select(*key, raw)):
                stored = row[-1]
                if stored is None or ring.is_current(stored):
                    continue
                sealed = ring.encrypt(ring.decrypt(stored))
                connection.execute(
                    update(table)
                    .where(*(c == v for c, v in zip(key, row[:-1], strict=True)))
                    .values({column.name: literal(sealed, String())})
                )
                changed += 1
    return changed
