"""``create_app()``: the ASGI application and its lifespan (migrate, start the ingest writer
and, unless told otherwise, an in-process worker)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from cartwheel import __version__, sealing
from cartwheel.admin.web import STATIC as ADMIN_STATIC
from cartwheel.api import FAST_ROUTES, ROUTERS
from cartwheel.auth.cache import CredentialCache
from cartwheel.config import Settings, get_settings
from cartwheel.db import Database
from cartwheel.exceptions import AppError
from cartwheel.ingest.writer import IngestWriter
from cartwheel.kit import openapi
from cartwheel.kit.collector import tune_garbage_collector
from cartwheel.kit.errors import render_native
from cartwheel.kit.routing import validation_errors
from cartwheel.migrate import migrate
from cartwheel.ratelimit import RateLimiter
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker

log = logging.getLogger(__name__)

DESCRIPTION = """
Cartwheel accepts customer events in its own schema (`/v1/events`) and in the wire formats of
five event APIs, resolves each to one contact per person, and serves the store's records.

Authenticate with the store's secret key as `Authorization: Bearer <key>`; the client-side
event endpoint uses a public client credential instead. Errors of the native API have the
shape `{"success": false, "message": "..."}`.
"""


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    db = db or Database(settings.database_url)
    # Secrets at rest: the application key (generated into its file on first start).
    sealing.configure(sealing.load_keyring(settings))
    worker = Worker(db, settings)
    return Runtime(
        settings=settings,
        db=db,
        rate_limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        # Each commit wakes an idle worker, so new events are processed without polling delay.
        writer=IngestWriter(db, max_batch=settings.ingest_max_batch, on_commit=worker.wake),
        credentials=CredentialCache(db, settings.auth_cache_seconds),
        worker=worker,
    )


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    run_worker: bool | None = None,
) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings)
        migrate(rt.db.engine)
        with rt.db.write_connection() as connection:
            # Legacy plain secrets and those under an older key: sealed under the first key.
            sealing.reseal(connection)
        rt.writer.start()
        worker = rt.worker
        start_worker = settings.run_worker_in_process if run_worker is None else run_worker
        if start_worker:
            worker.start()
        app.state.runtime = rt
        tune_garbage_collector()
        try:
            yield
        finally:
            rt.writer.stop()
            if start_worker:
                worker.stop()
            if runtime is None:
                rt.db.dispose()

    app = FastAPI(
        title="Cartwheel",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Cartwheel exports Prometheus metrics itself; FastAPI's built-in OpenTelemetry hooks
        # cost a provider lookup per request even when nothing is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    for router in ROUTERS:
        app.include_router(router)
    app.router.routes[0:0] = FAST_ROUTES
    # The back office's scripts, styles and their licences (vendored: no build step).
    app.mount("/admin/static", StaticFiles(directory=ADMIN_STATIC), name="admin-static")
    openapi.install(app)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return render_native(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return render_native(request, validation_errors(exc))

    return app
