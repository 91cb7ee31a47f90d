"""Categories: the tree, the ``parent`` filter, creation and tenancy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cartwheel.catalog.schemas import CATEGORY_EXAMPLE
from tests.catalog.test_products import category, create
from tests.conftest import StoreFixture


def test_create_answers_the_documented_category(client: TestClient, store: StoreFixture) -> None:
    body = {k: v for k, v in CATEGORY_EXAMPLE.items() if k != "id"}
    response = client.post("/v1/categories", json=body, headers=store.headers)
    assert response.status_code == 201, response.text
    assert response.json() == {**CATEGORY_EXAMPLE, "id": response.json()["id"]}


def test_list_is_a_plain_array_filtered_by_direct_parent(
    client: TestClient, store: StoreFixture
) -> None:
    doors = category(client, store, "Doors")
    interior = category(client, store, "Interior Doors", doors)
    category(client, store, "Sliding", interior)
    windows = category(client, store, "Windows")

    everything = client.get("/v1/categories", headers=store.headers).json()
    assert [c["name"] for c in everything] == ["Doors", "Interior Doors", "Sliding", "Windows"]
    assert everything[1] == {
        "id": interior,
        "name": "Interior Doors",
        "url": "interior-doors",
        "parentCategory": doors,
    }

    def names(parent: int | str) -> list[str]:
        response = client.get(f"/v1/categories?parent={parent}", headers=store.headers)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()]

    assert names(doors) == ["Interior Doors"]  # direct sub-categories only
    assert names(interior) == ["Sliding"]
    assert names(windows) == []
    assert names(0) == ["Doors", "Windows"]
    assert names(999_999_999) == []

    for query, message in (
        ("top", "The parent parameter must be an integer."),
        ("99999999999", "The parent parameter may not be greater than 2147483647."),
    ):
        bad = client.get(f"/v1/categories?parent={query}", headers=store.headers)
        assert bad.status_code == 400
        assert bad.json() == {"success": False, "message": message}


def test_url_is_unique_in_a_store(client: TestClient, store: StoreFixture) -> None:
    first = client.post("/v1/categories", json={"name": "Doors"}, headers=store.headers).json()
    second = client.post("/v1/categories", json={"name": "Doors"}, headers=store.headers).json()
    assert (first["url"], second["url"]) == ("doors", "doors-2")
    taken = client.post(
        "/v1/categories", json={"name": "Other", "url": "doors"}, headers=store.headers
    )
    assert taken.status_code == 409
    assert taken.json() == {
        "success": False,
        "message": "A category with this URL already exists.",
    }


def test_validation_errors(client: TestClient, store: StoreFixture) -> None:
    missing = client.post("/v1/categories", json={"url": "x"}, headers=store.headers)
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"name": ["The name field is required."]}
    parent = client.post(
        "/v1/categories",
        json={"name": "Orphan", "parentCategory": 999_999_999},
        headers=store.headers,
    )
    assert parent.status_code == 422
    assert parent.json() == {
        "success": False,
        "message": "The parent category 999999999 does not exist.",
        "errors": {"parentCategory": ["The parent category 999999999 does not exist."]},
    }
    assert client.get("/v1/categories", headers=store.headers).json() == []


def test_products_reuse_categories_by_id_url_or_name(
    client: TestClient, store: StoreFixture
) -> None:
    doors = category(client, store, "Doors")
    by_id = create(client, store, title="A", categories=[{"id": doors}])
    by_url = create(client, store, title="B", categories=[{"url": "doors", "name": "Doorz"}])
    by_name = create(client, store, title="C", categories=[{"name": "doors"}])
    new = create(client, store, title="D", categories=[{"name": "Knobs", "parentCategory": doors}])
    for product in (by_id, by_url, by_name):
        assert [c["id"] for c in product["categories"]] == [doors]
    (knobs,) = new["categories"]
    assert (knobs["name"], knobs["url"], knobs["parentCategory"]) == ("Knobs", "knobs", doors)
    # The new sub-category is part of the Doors tree.
    listed = client.get(f"/v1/products?category_id={doors}", headers=store.headers).json()
    assert listed["totalCount"] == 4


def test_another_store_sees_and_uses_none_of_them(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    doors = category(client, store, "Doors")
    assert client.get("/v1/categories", headers=other_store.headers).json() == []
    assert client.get(f"/v1/categories?parent={doors}", headers=other_store.headers).json() == []
    child = client.post(
        "/v1/categories",
        json={"name": "Sub", "parentCategory": doors},
        headers=other_store.headers,
    )
    assert child.status_code == 422
    # The same URL is free in another store.
    theirs = client.post("/v1/categories", json={"name": "Doors"}, headers=other_store.headers)
    assert theirs.status_code == 201 and theirs.json()["url"] == "doors"
    assert [c["id"] for c in client.get("/v1/categories", headers=store.headers).json()] == [doors]
