"""Verified credentials, cached for ``auth_cache_seconds`` so the hot path does not query
the database on every request. A revoked key stops working within that many seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from cartwheel.auth.tokens import digest
from cartwheel.db import Database
from cartwheel.kit.cors import parse_origin
from cartwheel.models import ApiKey, ClientCredential, Store
from cartwheel.models.api_key import SECRET, WRITE


@dataclass(frozen=True, slots=True)
class StoreContext:
    """Who is calling: the store every query of this request is scoped to."""

    store_id: int
    rate_limit: float | None
    key_id: int | None = None
    client_credential_id: int | None = None
    allowed_origins: tuple[str, ...] = ()


class CredentialCache:
    def __init__(
        self, db: Database, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._db = db
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[StoreContext | None, float]] = {}

    async def secret_key(self, key: str) -> StoreContext | None:
        key_hash = digest(key)
        return await self._cached("k:" + key_hash, lambda: self._load_key(key_hash, SECRET))

    async def write_key(self, key: str) -> StoreContext | None:
        """The store of a write key (the tracking spec's), which can only send events."""
        key_hash = digest(key)
        return await self._cached("w:" + key_hash, lambda: self._load_key(key_hash, WRITE))

    async def client(self, application_id: str, token: str) -> StoreContext | None:
        cache_key = "c:" + digest(application_id + "\x00" + token)
        return await self._cached(
            cache_key, lambda: self._load_client(application_id, digest(token))
        )

    def clear(self) -> None:
        self._entries.clear()

    async def _cached(
        self, cache_key: str, load: Callable[[], StoreContext | None]
    ) -> StoreContext | None:
        now = self._clock()
        hit = self._entries.get(cache_key)
        if hit is not None and hit[1] > now:
            return hit[0]
        # A miss touches the database: do it off the event loop.
        context = await run_in_threadpool(load)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[cache_key] = (context, now + self._ttl)
        return context

    def _load_key(self, key_hash: str, kind: str) -> StoreContext | None:
        with self._db.read() as session:
            row = session.execute(
                select(ApiKey.id, ApiKey.store_id, Store.rate_limit_per_second)
                .join(Store, Store.id == ApiKey.store_id)
                .where(
                    ApiKey.key_hash == key_hash,
                    ApiKey.kind == kind,
                    ApiKey.revoked_at.is_(None),
                )
            ).first()
        if row is None:
            return None
        return StoreContext(
            store_id=row.store_id, rate_limit=row.rate_limit_per_second, key_id=row.id
        )

    def _load_client(self, application_id: str, token_hash: str) -> StoreContext | None:
        with self._db.read() as session:
            row = session.execute(
                select(ClientCredential, Store.rate_limit_per_second)
                .join(Store, Store.id == ClientCredential.store_id)
                .where(
                    ClientCredential.application_id == application_id,
                    ClientCredential.revoked_at.is_(None),
                )
            ).first()
        if row is None:
            return None
        credential: ClientCredential = row[0]
        if credential.token_hash != token_hash:
            return None
        return StoreContext(
            store_id=credential.store_id,
            rate_limit=row[1],
            client_credential_id=credential.id,
            allowed_origins=tuple(credential.allowed_origins),
        )


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Does ``origin`` match one of ``allowed``? It must be exactly ``[scheme://]host[:port]``
    (:func:`cartwheel.kit.cors.parse_origin`: no path, query or user info), and hosts must
    match. Voucherify types the header ``string<hostname>``, so its scheme and port are
    optional: a scheme or port the header does carry must match the allowed entry's, and an
    allowed entry that names a scheme or port must match a header that names them
    (``shop.example.com`` allows any)."""
    requested = parse_origin(origin)
    if requested is None:
        return False
    for entry in allowed:
        wanted = parse_origin(entry.rstrip("/"))  # the operator's own entry: "x.com/" is fine
        if wanted is None or wanted.host != requested.host:
            continue
        if wanted.scheme and requested.scheme and wanted.scheme != requested.scheme:
            continue
        wanted_port, requested_port = wanted.effective_port, requested.effective_port
        if wanted_port is not None and requested_port is not None and wanted_port != requested_port:
            continue
        return True
    return False
