"""What one running Cartwheel process holds: settings, database, ingest writer, worker, limiter.
Built once in the app's lifespan and reached by endpoints through :func:`get_runtime`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.ratelimit import RateLimiter

if TYPE_CHECKING:
    from cartwheel.auth.cache import CredentialCache
    from cartwheel.ingest.writer import IngestWriter
    from cartwheel.worker.runner import Worker


@dataclass
class Runtime:
    settings: Settings
    db: Database
    rate_limiter: RateLimiter
    writer: IngestWriter
    credentials: CredentialCache
    #: Started in-process by the app unless told otherwise; tests drive it with ``drain()``.
    worker: Worker


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, a hop
    # that costs more than everything else the hot ingest path does.
    runtime: Runtime = request.app.state.runtime
    return runtime
