"""The native event endpoints are served by the fast lane and documented by FastAPI."""

from fastapi.testclient import TestClient
from starlette.routing import Route

from cartwheel.wire.native.endpoints import FAST_ROUTES
from tests.conftest import StoreFixture


def test_fast_routes_come_first_and_the_openapi_document_keeps_the_endpoints(
    client: TestClient,
) -> None:
    app = client.app
    routes = app.router.routes  # type: ignore[attr-defined]
    assert routes[: len(FAST_ROUTES)] == FAST_ROUTES
    assert all(isinstance(r, Route) for r in FAST_ROUTES)
    paths = client.get("/openapi.json").json()["paths"]
    assert "requestBody" in paths["/v1/events"]["post"]
    assert "requestBody" in paths["/v1/events/batch"]["post"]


def test_fast_lane_answers_errors_in_the_native_shape(
    client: TestClient, store: StoreFixture
) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}):
        response = client.post("/v1/events", json={"name": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"success": False, "message": "Unauthenticated."}
    invalid = client.post("/v1/events", content=b"{", headers=store.headers)
    assert invalid.status_code == 400
    assert invalid.json()["success"] is False
