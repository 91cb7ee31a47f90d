"""Creating stores and managing their credentials. Used by the CLI and by tests; services
only flush — the caller's transaction commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.auth.tokens import (
    CLIENT_APP_PREFIX,
    CLIENT_TOKEN_PREFIX,
    SECRET_KEY_PREFIX,
    WRITE_KEY_PREFIX,
    digest,
    new_secret,
)
from cartwheel.exceptions import BadRequest, NotFound, ValidationFailed
from cartwheel.kit.cors import parse_origin
from cartwheel.kit.requests import is_id
from cartwheel.models import ApiKey, ClientCredential, Store
from cartwheel.models.api_key import SECRET, WRITE
from cartwheel.models.base import utcnow


@dataclass(frozen=True, slots=True)
class NewStore:
    store_id: int
    api_key: str
    client_application_id: str
    client_token: str
    #: The tracking spec's write key: it can send events and nothing else.
    write_key: str = ""


@dataclass(frozen=True, slots=True)
class NewKey:
    id: int
    store_id: int
    name: str
    key: str
    kind: str = SECRET


def create_store(session: Session, name: str, allowed_origins: list[str] | None = None) -> NewStore:
    """A store with one secret API key, one write key and one public client credential."""
    store = Store(name=name)
    session.add(store)
    session.flush()
    key = create_key(session, store.id, "default")
    write_key = create_key(session, store.id, "default", kind=WRITE)
    app_id, token = create_client_credential(session, store.id, allowed_origins or [])
    return NewStore(store.id, key.key, app_id, token, write_key.key)


KINDS = (SECRET, WRITE)
_PREFIXES = {SECRET: SECRET_KEY_PREFIX, WRITE: WRITE_KEY_PREFIX}


def create_key(session: Session, store_id: int, name: str, kind: str = SECRET) -> NewKey:
    """A new key of ``kind``: ``secret`` (every endpoint of the store) or ``write`` (the
    tracking spec's write key: sending events only)."""
    if kind not in _PREFIXES:
        raise BadRequest(f"A key's kind is one of: {', '.join(KINDS)}.")
    if session.get(Store, store_id) is None:
        raise NotFound(f"Store {store_id} does not exist.")
    prefix = _PREFIXES[kind]
    secret = new_secret(prefix)
    row = ApiKey(
        store_id=store_id,
        name=name,
        kind=kind,
        prefix=secret[: len(prefix) + 4],
        key_hash=digest(secret),
    )
    session.add(row)
    session.flush()
    return NewKey(row.id, store_id, name, secret, kind)


def list_keys(session: Session, store_id: int) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.store_id == store_id).order_by(ApiKey.id)
    return list(session.execute(query).scalars())


def revoke_key(session: Session, store_id: int, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or row.store_id != store_id:
        raise NotFound(f"Key {key_id} does not exist in store {store_id}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def create_client_credential(
    session: Session, store_id: int, allowed_origins: list[str]
) -> tuple[str, str]:
    app_id = new_secret(CLIENT_APP_PREFIX)[:40]
    token = new_secret(CLIENT_TOKEN_PREFIX)
    session.add(
        ClientCredential(
            store_id=store_id,
            application_id=app_id,
            token_hash=digest(token),
            allowed_origins=list(allowed_origins),
        )
    )
    session.flush()
    return app_id, token


#: The largest per-store rate limit (requests per second).
MAX_RATE_LIMIT = 1e9


def set_rate_limit(session: Session, store_id: int, per_second: float | None) -> None:
    if per_second is not None and not 0 < per_second <= MAX_RATE_LIMIT:
        raise ValidationFailed(
            {"rateLimit": [f"The rate limit must be above 0 and at most {MAX_RATE_LIMIT:g}."]}
        )
    store = get_store(session, store_id)
    store.rate_limit_per_second = per_second


def get_store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id) if is_id(store_id) else None
    if store is None:
        raise NotFound(f"Store {store_id} does not exist.")
    return store


def stores_by_id(session: Session, store_ids: list[int]) -> list[Store]:
    """The stores with these ids, by id (missing ids are left out)."""
    ids = [i for i in store_ids if is_id(i)]
    if not ids:
        return []
    return list(
        session.execute(select(Store).where(Store.id.in_(ids)).order_by(Store.id)).scalars()
    )


def list_client_credentials(session: Session, store_id: int) -> list[ClientCredential]:
    query = (
        select(ClientCredential)
        .where(ClientCredential.store_id == store_id)
        .order_by(ClientCredential.id)
    )
    return list(session.execute(query).scalars())


#: The most allowed origins one client credential may list.
MAX_ORIGINS = 50


def set_allowed_origins(
    session: Session, store_id: int, credential_id: int, origins: list[str]
) -> ClientCredential:
    """Replace a client credential's allowed origins. Each must be ``[http(s)://]host[:port]``
    (the rule the origin check applies: :func:`cartwheel.kit.cors.parse_origin`); takes
    effect within ``CARTWHEEL_AUTH_CACHE_SECONDS``."""
    row = session.get(ClientCredential, credential_id) if is_id(credential_id) else None
    if row is None or row.store_id != store_id:
        raise NotFound(f"Client credential {credential_id} does not exist in store {store_id}.")
    cleaned = list(dict.fromkeys(o.strip() for o in origins if o.strip()))
    bad = [o for o in cleaned if parse_origin(o.rstrip("/")) is None]
    if bad:
        raise ValidationFailed(
            {"origins": [f"{o!r} is not an origin like https://shop.example.com." for o in bad]}
        )
    if len(cleaned) > MAX_ORIGINS:
        raise ValidationFailed({"origins": [f"At most {MAX_ORIGINS} origins."]})
    row.allowed_origins = cleaned
    session.flush()
    return row


def revoke_client_credential(
    session: Session, store_id: int, credential_id: int
) -> ClientCredential:
    """Refuse the credential from now on (within ``CARTWHEEL_AUTH_CACHE_SECONDS``)."""
    row = session.get(ClientCredential, credential_id) if is_id(credential_id) else None
    if row is None or row.store_id != store_id:
        raise NotFound(f"Client credential {credential_id} does not exist in store {store_id}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return row
