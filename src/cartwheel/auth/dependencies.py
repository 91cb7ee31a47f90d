"""FastAPI dependencies that authenticate a request and charge its store's rate limit."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBasic, HTTPBearer

from cartwheel.auth.cache import StoreContext, origin_allowed
from cartwheel.exceptions import Forbidden, Unauthorized
from cartwheel.runtime import Runtime, get_runtime

bearer = HTTPBearer(auto_error=False, description="The store's secret API key.")
api_key_header = APIKeyHeader(
    name="X-API-KEY",
    auto_error=False,
    description="The store's secret API key, for clients that send it as `X-API-KEY`.",
)


async def secret_key_store(
    request: Request,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StoreContext:
    """The store of the ``Authorization: Bearer`` secret key, rate-limited."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    return await _charged(request, runtime, credentials.credentials)


async def bearer_store(request: Request, runtime: Runtime) -> StoreContext:
    """:func:`secret_key_store` without FastAPI's dependency machinery, for the fast lane
    (:mod:`cartwheel.kit.fastlane`): same header, same answers."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized()
    return await _charged(request, runtime, token)


async def _charged(request: Request, runtime: Runtime, key: str) -> StoreContext:
    context = await runtime.credentials.secret_key(key)
    if context is None:
        raise Unauthorized()
    # Kept on the request so an endpoint can answer with X-RateLimit-* headers.
    request.state.quota = runtime.rate_limiter.check(context.store_id, context.rate_limit)
    return context


async def client_credential_store(
    request: Request,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    application_id: Annotated[
        str | None, Header(alias="X-Client-Application-Id", description="Client application id.")
    ] = None,
    token: Annotated[
        str | None, Header(alias="X-Client-Token", description="Client token.")
    ] = None,
    origin: Annotated[
        str | None, Header(alias="origin", description="Origin of the calling page.")
    ] = None,
) -> StoreContext:
    """The store of a public client credential, checked against its allowed origins."""
    if not application_id or not token:
        raise Unauthorized()
    context = await runtime.credentials.client(application_id, token)
    if context is None:
        raise Unauthorized()
    if not origin_allowed(origin, context.allowed_origins):
        raise Forbidden("This origin is not allowed for this client application.")
    request.state.quota = runtime.rate_limiter.check(context.store_id, context.rate_limit)
    return context


async def secret_key_or_api_key_store(
    request: Request,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> StoreContext:
    """:func:`secret_key_store`, also taking the key from an ``X-API-KEY`` header."""
    if (credentials is None or not credentials.credentials) and api_key:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=api_key)
    return await secret_key_store(request, runtime, credentials)


class WriteKeyBasic(HTTPBasic):
    """HTTP Basic with the write key as the user name and an empty password (the tracking
    spec's libraries). Declared for the OpenAPI document; parsed leniently: no header is
    None (the key may be in the body), a header that is not base64 is a 401."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        scheme, _, param = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "basic" or not param.strip():
            return None
        try:
            decoded = base64.b64decode(param.strip(), validate=True).decode()
        except (binascii.Error, ValueError):
            raise Unauthorized("The Basic credential is not valid base64.") from None
        key = decoded.partition(":")[0]
        return key or None


write_key_basic = WriteKeyBasic(
    auto_error=False,
    scheme_name="WriteKey",
    description="The store's write key as the user name, an empty password.",
)


async def write_key_store(request: Request, runtime: Runtime, key: str | None) -> StoreContext:
    """The store of a write key (from the Basic credential or the body), rate-limited. A
    write key opens the event endpoints of the tracking spec and nothing else."""
    if not key:
        raise Unauthorized("A write key is required: HTTP Basic, or writeKey in the body.")
    context = await runtime.credentials.write_key(key)
    if context is None:
        raise Unauthorized("Invalid write key.")
    request.state.quota = runtime.rate_limiter.check(context.store_id, context.rate_limit)
    return context


SecretKeyStore = Annotated[StoreContext, Depends(secret_key_store)]
SecretKeyOrApiKeyStore = Annotated[StoreContext, Depends(secret_key_or_api_key_store)]
ClientCredentialStore = Annotated[StoreContext, Depends(client_credential_store)]
