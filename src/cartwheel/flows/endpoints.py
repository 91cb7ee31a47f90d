"""Flows (store data API, secret key): definitions, publish/pause/resume, runs, stats, test
runs and ready flows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import BadRequest, NotFound
from cartwheel.flows import schemas, service, stats
from cartwheel.flows.definition import Definition
from cartwheel.flows.schemas import Flow, FlowRun, FlowRunDetail, FlowStats, ReadyInput, TestInput
from cartwheel.kit.body import read_json
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.ids import MAX_ID
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1/flows", tags=["flows"], responses=ERROR_RESPONSES)
runs_router = native_router(prefix="/v1/flow-runs", tags=["flows"], responses=ERROR_RESPONSES)

MAX_BODY_BYTES = 256 * 1024
CONFLICT = {409: {"model": ErrorResponse, "description": "The flow is not published yet"}}
Pages = Annotated[PageParams, Depends(page_params)]
RUN_STATES = ("active", "done", "exited", "failed")

_EXAMPLES = {
    "simple": {"summary": "Tag new sign-ups after ten minutes", "value": schemas.SIMPLE_EXAMPLE},
    "abandoned_cart": {
        "summary": "Abandoned cart (template 3, segment 7 and the webhook must exist)",
        "value": schemas.ABANDONED_CART,
    },
}


def _id(raw: str, what: str) -> int:
    """A path id: ASCII digits naming a possible row, else a 404 (never a query)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"{what} not found.")
    return int(raw)


async def definition_input(
    request: Request, _: SecretKeyStore
) -> tuple[dict[str, Any], Definition]:
    return schemas.parse_body(await read_json(request, MAX_BODY_BYTES))


async def test_input(request: Request, _: SecretKeyStore) -> TestInput:
    return schemas.parse_test(await read_json(request, MAX_BODY_BYTES))


async def ready_input(request: Request, _: SecretKeyStore) -> ReadyInput:
    return schemas.parse_ready(await read_json(request, MAX_BODY_BYTES))


Body = Annotated[tuple[dict[str, Any], Definition], Depends(definition_input)]


@router.post(
    "",
    status_code=201,
    response_model=Flow,
    openapi_extra=json_body(schemas.FlowCreate, examples=_EXAMPLES),
)
def create_flow(store: SecretKeyStore, body: Body, session: WriteSession) -> Flow:
    """Save a flow definition as a draft. A wrong definition is a 422 naming the JSON path
    of each problem (an unknown or unreachable step, a loop without a wait, a template,
    webhook, list or segment the store does not have). Publish it to start runs."""
    data, definition = body
    return service.create_flow(session, store.store_id, data, definition)


@router.get("", response_model=Page[Flow])
def list_flows(store: SecretKeyStore, session: ReadSession, page: Pages) -> Page[Flow]:
    """The store's flows, oldest first, with their runs by state."""
    items, total = service.list_flows(session, store.store_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/ready/{name}",
    status_code=201,
    response_model=Flow,
    openapi_extra=json_body(
        ReadyInput,
        examples={"order_confirmation": {"summary": "Send template 5", "value": {"template": 5}}},
    ),
)
def enable_ready(
    name: str,
    store: SecretKeyStore,
    data: Annotated[ReadyInput, Depends(ready_input)],
    session: WriteSession,
) -> Flow:
    """Enable a ready flow: `order-confirmation` sends the given email template when an
    order is paid for or placed, in any format (Omnisend's `paid for order`, Lindris's
    `order/completed`, Redo's `Order Placed` and `Purchase Completed`, an order created
    through the store data API). It is created and published at once."""
    return service.enable_ready(session, store.store_id, name, data.template)


@router.get("/{flow_id}", response_model=Flow)
def get_flow(flow_id: str, store: SecretKeyStore, session: ReadSession) -> Flow:
    """One flow, with its saved definition and published version."""
    return service.read_flow(session, store.store_id, _id(flow_id, "Flow"))


@router.put(
    "/{flow_id}",
    response_model=Flow,
    openapi_extra=json_body(schemas.FlowCreate, examples=_EXAMPLES),
)
def update_flow(flow_id: str, store: SecretKeyStore, body: Body, session: WriteSession) -> Flow:
    """Replace the saved definition. Runs continue on the version they started on; new runs
    use the new definition once it is published (a new version)."""
    data, definition = body
    return service.update_flow(session, store.store_id, _id(flow_id, "Flow"), data, definition)


@router.delete("/{flow_id}", status_code=204, response_class=Response)
def delete_flow(flow_id: str, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a flow; its active runs end as `exited`, their history stays."""
    service.delete_flow(session, store.store_id, _id(flow_id, "Flow"))
    return Response(status_code=204)


@router.post("/{flow_id}/publish", response_model=Flow)
def publish(flow_id: str, store: SecretKeyStore, session: WriteSession) -> Flow:
    """Publish the saved definition: a new version if it changed (runs already started stay
    on theirs); a draft goes live."""
    return service.publish(session, store.store_id, _id(flow_id, "Flow"))


@router.post("/{flow_id}/pause", response_model=Flow, responses=CONFLICT)
def pause(flow_id: str, store: SecretKeyStore, session: WriteSession) -> Flow:
    """Pause: no new runs, and the active runs are held where they are."""
    return service.pause(session, store.store_id, _id(flow_id, "Flow"))


@router.post("/{flow_id}/resume", response_model=Flow, responses=CONFLICT)
def resume(flow_id: str, store: SecretKeyStore, session: WriteSession) -> Flow:
    """Resume: runs start again and the held runs continue (an exit or an awaited event
    that came meanwhile is honoured first)."""
    return service.resume(session, store.store_id, _id(flow_id, "Flow"))


@router.get("/{flow_id}/runs", response_model=Page[FlowRun])
def list_runs(
    flow_id: str,
    store: SecretKeyStore,
    session: ReadSession,
    page: Pages,
    state: str | None = Query(default=None, description="active, done, exited or failed."),
    contactId: str | None = Query(default=None, description="Only this contact's runs."),
) -> Page[FlowRun]:
    """The flow's runs, newest first."""
    if state is not None and state not in RUN_STATES:
        raise BadRequest("The state parameter must be one of " + ", ".join(RUN_STATES) + ".")
    contact = None
    if contactId is not None:
        if not contactId.isascii() or not contactId.isdigit() or len(contactId) > 10:
            raise BadRequest("The contactId parameter must be a contact's id.")
        contact = int(contactId)
        if not 0 < contact <= MAX_ID:
            raise BadRequest("The contactId parameter must be a contact's id.")
    items, total = service.list_runs(
        session, store.store_id, _id(flow_id, "Flow"), page, state, contact
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/{flow_id}/stats", response_model=FlowStats)
def flow_stats(flow_id: str, store: SecretKeyStore, session: ReadSession) -> FlowStats:
    """Per step of the published version: visits, runs waiting there, done, exited, skipped
    with reasons; with a `goal`, the runs whose contact converted within its window."""
    return stats.flow_stats(session, store.store_id, _id(flow_id, "Flow"))


@router.post(
    "/{flow_id}/test",
    response_model=FlowRunDetail,
    openapi_extra=json_body(
        TestInput,
        examples={"contact": {"summary": "Test for contact 123", "value": {"contactId": 123}}},
    ),
)
def test_flow(
    flow_id: str,
    store: SecretKeyStore,
    data: Annotated[TestInput, Depends(test_input)],
    session: WriteSession,
) -> FlowRunDetail:
    """Run the saved definition for one contact now, with waits shortened: it sends only
    to that contact, changes no profile, list or webhook, and answers with the step log."""
    return service.test_flow(session, store.store_id, _id(flow_id, "Flow"), data)


@runs_router.get("/{run_id}", response_model=FlowRunDetail)
def get_run(run_id: str, store: SecretKeyStore, session: ReadSession) -> FlowRunDetail:
    """One run with every step it visited: when, what it did, why it was skipped."""
    return service.read_run(session, store.store_id, _id(run_id, "Flow run"))
