"""The Lindris Events API: ``POST /api/events`` and ``POST /api/events/{type}/{action}``.

Authenticated with the store's secret key (``Authorization: Bearer``); every error in
Laravel's ``{"message": ...}`` shape. An unknown type or action is a 404 before the key is
checked, as Laravel's router answers before any middleware runs.
"""

# No ``from __future__ import annotations`` here: the per-type endpoints are closures whose
# annotations name a local dependency, which FastAPI can only see as evaluated objects.

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.kit.openapi import json_body
from cartwheel.kit.routing import wire_router
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.lindris import examples, mapping
from cartwheel.wire.lindris.adapter import ADAPTER, LindrisAdapter
from cartwheel.wire.lindris.errors import route_not_found
from cartwheel.wire.lindris.requests import EVENT_TYPES, GENERIC_FIELDS, EventType
from cartwheel.wire.lindris.schemas import (
    LIFECYCLE_REQUESTS,
    GenericEventRequest,
    error_responses,
)
from cartwheel.wire.lindris.validation import FieldSpec
from cartwheel.wire.pipeline import Pipeline

router = wire_router(ADAPTER.render_error, tags=["Lindris Events API"])

PIPELINE = Pipeline(ADAPTER)

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _invalid_example(specs: tuple[FieldSpec, ...]) -> dict[str, Any]:
    """The 422 an empty body gets: the document's error example, computed by the validator."""
    try:
        mapping.validate(specs, {})
    except ValidationFailed as exc:
        return {"message": exc.message, "errors": exc.errors}
    raise AssertionError("an empty body always fails validation")


def _example(summary: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"documented": {"summary": summary, "value": value}}


@router.post(
    "/api/events",
    summary="Track a generic custom event",
    responses=error_responses(_invalid_example(GENERIC_FIELDS)),
    openapi_extra=json_body(
        GenericEventRequest, examples=_example("The document's example", examples.GENERIC)
    ),
)
async def track_event(request: Request, store: SecretKeyStore, runtime: RuntimeDep) -> Response:
    """Track a custom event (`eventName`) about a person identified by `email`, `referenceId`
    or the `uuid` of a previous response. `silent` stores it without starting automations;
    `test` validates and answers without storing anything."""
    return await PIPELINE.one(request, runtime, store)


def _add_lifecycle_route(event_type: EventType) -> None:
    pipeline = Pipeline(LindrisAdapter(event_type))
    actions = ", ".join(f"`{a}`" for a in event_type.actions)
    (documented_action, example), *_ = (
        (action, body)
        for (name, action), body in examples.LIFECYCLE.items()
        if name == event_type.name
    )

    def known_action(
        request: Request,
        action: Annotated[
            str,
            Path(
                description=f"The {event_type.name} event action to track: one of {actions}.",
                examples=[documented_action],
                json_schema_extra={"enum": list(event_type.actions)},
            ),
        ],
    ) -> str:
        if action not in event_type.actions:
            raise NotFound(route_not_found(request))
        return action

    # ``action`` is declared before ``store``: an unknown action is a 404 without a key.
    async def track_lifecycle_event(
        request: Request,
        action: Annotated[str, Depends(known_action)],
        store: SecretKeyStore,
        runtime: RuntimeDep,
    ) -> Response:
        return await pipeline.one(request, runtime, store)

    router.add_api_route(
        f"/api/events/{event_type.name}/{{action}}",
        track_lifecycle_event,
        methods=["POST"],
        name=f"track_{event_type.name}_event",
        summary=event_type.title,
        description=f"{event_type.description.rstrip('.')}. Actions: {actions}. The event is named "
        f"`{event_type.name}_{{action}}` and carries the {event_type.name} record.",
        responses=error_responses(_invalid_example(event_type.fields)),
        openapi_extra=json_body(
            LIFECYCLE_REQUESTS[event_type.name],
            examples=_example(f"The document's `{documented_action}` example", example),
        ),
    )


for _event_type in EVENT_TYPES.values():
    _add_lifecycle_route(_event_type)


# Not "/api/events/{path:path}": that would also match "/api/events/", which the router
# redirects to "/api/events" instead.
@router.post("/api/events/{type}", include_in_schema=False)
@router.post("/api/events/{type}/{rest:path}", include_in_schema=False)
async def unknown_event_type(request: Request) -> Response:
    """Any other path under /api/events: Laravel's 404 for a route that does not exist."""
    raise NotFound(route_not_found(request))
