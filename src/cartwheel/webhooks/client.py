"""The HTTP client that sends deliveries: guarded against SSRF (see :mod:`.guard`), no
redirects (a 3xx is a failed attempt), connect/read timeouts, and at most
:data:`MAX_RESPONSE_BYTES` of the receiver's answer read and kept."""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from cartwheel import __version__
from cartwheel.webhooks.guard import GuardedBackend, TargetRefused

MAX_RESPONSE_BYTES = 4096
USER_AGENT = f"Cartwheel-Webhooks/{__version__}"

# httpx logs every request's full URL at INFO (httpcore its request at DEBUG): a receiver's
# token in the query string would land in the logs. Deliveries are logged by delivery.py,
# with the target stripped of its query and credentials.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    error: str | None = None
    response_body: str | None = None
    #: Seconds the receiver asked us to wait (``Retry-After``), if it said.
    retry_after: float | None = None
    #: The SSRF guard refused the target's address; nothing was sent.
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose sockets go through :class:`GuardedBackend`."""

    def __init__(self, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx does not expose httpcore's network_backend; swapping the pool is the way in.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private),
        )


class WebhookClient:
    def __init__(
        self, *, timeout_seconds: float, allow_private: bool, max_connections: int = 64
    ) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._client = httpx.Client(
            transport=GuardedTransport(allow_private, limits),
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        # Close pooled keep-alive sockets when the client goes away or the process exits.
        self._finalizer = weakref.finalize(self, self._client.close)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        started = time.perf_counter()
        try:
            with self._client.stream(
                "POST", url, content=body, headers={"Content-Type": "application/json", **headers}
            ) as response:
                received = _read_capped(response)
        except TargetRefused as exc:
            return SendResult(None, _ms_since(started), exc.message, refused=True)
        except httpx.TimeoutException as exc:
            return SendResult(None, _ms_since(started), _describe("Timed out", exc))
        except httpx.HTTPError as exc:
            return SendResult(None, _ms_since(started), _describe("Request failed", exc))
        except httpx.InvalidURL as exc:
            return SendResult(None, _ms_since(started), _describe("Invalid target", exc))
        return SendResult(
            response.status_code,
            _ms_since(started),
            None if 200 <= response.status_code < 300 else _status_error(response),
            _text(received) if received else None,
            retry_after_seconds(response.headers.get("retry-after")),
        )

    def close(self) -> None:
        self._finalizer()


def _read_capped(response: httpx.Response) -> bytes:
    """The start of the raw body; the rest is never read (the connection is dropped)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL: a receiver's stray byte must not make the attempt
    # unrecordable (and so resent forever).
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _status_error(response: httpx.Response) -> str:
    if 300 <= response.status_code < 400:
        location = response.headers.get("location", "")
        return f"HTTP {response.status_code}: redirects are not followed ({location})"[:1000]
    return f"HTTP {response.status_code}"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _describe(prefix: str, exc: Exception) -> str:
    detail = str(exc) or type(exc).__name__
    return _text(f"{prefix}: {detail}"[:1000].encode())


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
