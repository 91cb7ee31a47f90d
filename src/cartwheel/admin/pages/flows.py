"""Flows: the list; a flow's steps drawn as a diagram with each step's figures, its runs
and a run's step log; publish, pause and resume (audited); deleting a flow (asked for and
audited). The flows package's services, as the API's endpoints call them."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit, diagram
from cartwheel.admin.web import (
    Post,
    Scoped,
    admin_router,
    confirm_page,
    list_page,
    page_skip,
    path_id,
    render,
    runtime,
    see,
)
from cartwheel.exceptions import NotFound
from cartwheel.flows import service as flows
from cartwheel.flows import stats as flow_stats
from cartwheel.flows.definition import parse_definition
from cartwheel.kit.pagination import PageParams
from cartwheel.segments.definition import DefinitionError

router = admin_router()

PAGE = 50
RUNS_PAGE = 25
RUN_STATES = ("active", "done", "exited", "failed")


@router.get("/admin/stores/{store_id}/flows")
def listing(request: Request, scope: Scoped, skip: int = 0) -> HTMLResponse:
    return list_page(request, scope, skip, flows.list_flows, "flows.html", limit=PAGE, page="flows")


@router.get("/admin/stores/{store_id}/flows/{flow_id}")
def flow(
    request: Request, scope: Scoped, flow_id: str, state: str = "", skip: int = 0
) -> HTMLResponse:
    fid = path_id(flow_id)
    skip = page_skip(skip)
    wanted = state if state in RUN_STATES else None
    with runtime(request).db.read() as session:
        found = flows.read_flow(session, scope.store_id, fid)
        figures = flow_stats.flow_stats(session, scope.store_id, fid)
        runs, run_total = flows.list_runs(
            session, scope.store_id, fid, PageParams(limit=RUNS_PAGE, skip=skip), wanted
        )
    try:
        drawn: diagram.Diagram | None = diagram.layout(
            parse_definition(found.definition), figures.steps
        )
    except DefinitionError:
        drawn = None
    return render(
        request,
        "flow.html",
        scope.context(
            page="flows",
            flow=found,
            stats=figures,
            diagram=drawn,
            runs=runs,
            total=run_total,
            state=wanted or "",
            states=RUN_STATES,
            skip=skip,
            limit=RUNS_PAGE,
        ),
    )


@router.get("/admin/stores/{store_id}/flows/{flow_id}/runs/{run_id}")
def run(request: Request, scope: Scoped, flow_id: str, run_id: str) -> HTMLResponse:
    fid, rid = path_id(flow_id), path_id(run_id)
    with runtime(request).db.read() as session:
        found = flows.read_flow(session, scope.store_id, fid)
        detail = flows.read_run(session, scope.store_id, rid)
    if detail.flowId != fid:
        raise NotFound("Flow run not found.")
    return render(request, "flow_run.html", scope.context(page="flows", flow=found, run=detail))


def _change(request: Request, posted: Post, flow_id: str, action: str) -> Response:
    scope = posted.scope
    fid = path_id(flow_id)
    change = {"publish": flows.publish, "pause": flows.pause, "resume": flows.resume}[action]
    with runtime(request).db.transaction() as session:
        done = change(session, scope.store_id, fid)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            f"flow.{action}",
            f"flow {fid}",
            {"name": done.name, "state": done.state, "version": done.version},
        )
    return see(f"{scope.base}/flows/{fid}")


@router.post("/admin/stores/{store_id}/flows/{flow_id}/publish")
def publish(request: Request, posted: Post, flow_id: str) -> Response:
    return _change(request, posted, flow_id, "publish")


@router.post("/admin/stores/{store_id}/flows/{flow_id}/pause")
def pause(request: Request, posted: Post, flow_id: str) -> Response:
    return _change(request, posted, flow_id, "pause")


@router.post("/admin/stores/{store_id}/flows/{flow_id}/resume")
def resume(request: Request, posted: Post, flow_id: str) -> Response:
    return _change(request, posted, flow_id, "resume")


@router.post("/admin/stores/{store_id}/flows/{flow_id}/delete")
def delete(request: Request, posted: Post, flow_id: str) -> Response:
    scope = posted.scope
    fid = path_id(flow_id)
    with runtime(request).db.read() as session:
        found = flows.read_flow(session, scope.store_id, fid)  # another store's: 404
    if not posted.confirmed():
        active = found.runs.get("active", 0)
        return confirm_page(
            request,
            posted,
            f"Delete the flow “{found.name}”?",
            f"The flow starts no more runs; its {active:,} active run"
            f"{'' if active == 1 else 's'} end (exited) where they are. The runs' history "
            "stays readable through the API.",
            "Delete the flow",
        )
    with runtime(request).db.transaction() as session:
        flows.delete_flow(session, scope.store_id, fid)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "flow.delete",
            f"flow {fid}",
            {"name": found.name, "runs": found.runs},
        )
    return see(f"{scope.base}/flows")
