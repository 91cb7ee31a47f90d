"""Liveness/readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from cartwheel.runtime import Runtime, get_runtime

router = APIRouter(tags=["operations"])

EVENTS_INGESTED = Counter("cartwheel_events_ingested_total", "Events stored", ["wire"])


class Health(BaseModel):
    status: str = Field(description="`ok` when the database answers.")
    database: str = Field(description="`ok` or the error the database gave.")


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(runtime: Annotated[Runtime, Depends(get_runtime)], response: Response) -> Health:
    """Is the server up and its database reachable?"""

    def ping() -> None:
        with runtime.db.read() as session:
            session.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except Exception as exc:
        response.status_code = 503
        return Health(status="unavailable", database=type(exc).__name__)
    return Health(status="ok", database="ok")


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
