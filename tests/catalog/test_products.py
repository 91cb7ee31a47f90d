"""Products of the store data API: the document's operations, filters, errors and tenancy."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.catalog.schemas import PRODUCT_WRITE_EXAMPLE
from cartwheel.db import Database
from tests.conftest import StoreFixture, json_of
from tests.records.lifecycle import outbox


def create(client: TestClient, store: StoreFixture, **fields: Any) -> dict[str, Any]:
    body = {"type": "physical", "title": "Thing", **fields}
    response = client.post("/v1/products", json=body, headers=store.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def category(client: TestClient, store: StoreFixture, name: str, parent: int = 0) -> int:
    response = client.post(
        "/v1/categories", json={"name": name, "parentCategory": parent}, headers=store.headers
    )
    assert response.status_code == 201, response.text
    category_id: int = response.json()["id"]
    return category_id


def test_document_example_creates_the_documented_product(
    client: TestClient, store: StoreFixture
) -> None:
    response = client.post("/v1/products", json=PRODUCT_WRITE_EXAMPLE, headers=store.headers)
    assert response.status_code == 201, response.text
    body = json_of(response)
    expected = copy.deepcopy(PRODUCT_WRITE_EXAMPLE)
    # Category 1 is not this store's: the category is found (here: made) by its url.
    expected["categories"][0]["id"] = body["categories"][0]["id"]
    assert body == {"id": body["id"], **expected, "images": [], "file": None}

    fetched = client.get(f"/v1/products/{body['id']}", headers=store.headers)
    assert fetched.status_code == 200 and fetched.json() == body
    categories = client.get("/v1/categories", headers=store.headers).json()
    assert categories == [body["categories"][0]]


def test_digital_product_with_images_and_file(client: TestClient, store: StoreFixture) -> None:
    product = create(
        client,
        store,
        type="digital",
        title="E-book",
        images=["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"],
        file="https://cdn.example.com/book.pdf",
    )
    assert product["images"] == ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"]
    assert (product["type"], product["file"]) == ("digital", "https://cdn.example.com/book.pdf")
    assert (product["url"], product["hidden"], product["subscription"]) == ("e-book", False, None)


def test_put_sets_only_non_empty_fields(client: TestClient, store: StoreFixture) -> None:
    created = client.post("/v1/products", json=PRODUCT_WRITE_EXAMPLE, headers=store.headers).json()
    response = client.put(
        f"/v1/products/{created['id']}",
        json={
            "type": "service",
            "title": "Door fitting",
            "description": "",
            "url": "",
            "images": [],
            "categories": [],
            "options": [],
            "hidden": False,
        },
        headers=store.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["type"], updated["title"], updated["hidden"]) == (
        "service",
        "Door fitting",
        False,
    )
    # Empty values and omitted variants leave the product as it was.
    for key in ("description", "url", "images", "categories", "options", "variants"):
        assert updated[key] == created[key], key
    assert updated["subscription"] == created["subscription"]


def test_put_replaces_provided_variants_even_when_empty(
    client: TestClient, store: StoreFixture
) -> None:
    created = client.post("/v1/products", json=PRODUCT_WRITE_EXAMPLE, headers=store.headers).json()
    variant = {"options": ["Glass"], "price": 249.5, "sku": "D-002"}
    first = client.put(
        f"/v1/products/{created['id']}",
        json={"type": "physical", "title": "Interior Door", "variants": [variant]},
        headers=store.headers,
    ).json()
    assert first["variants"] == [
        {
            "options": ["Glass"],
            "price": 249.5,
            "onSale": False,
            "regularPrice": 0,
            "salePrice": 0,
            "quantity": 0,
            "sku": "D-002",
            "weight": 0,
        }
    ]
    cleared = client.put(
        f"/v1/products/{created['id']}",
        json={"type": "physical", "title": "Interior Door", "variants": []},
        headers=store.headers,
    ).json()
    assert cleared["variants"] == []


def test_put_requires_type_and_title_as_documented(client: TestClient, store: StoreFixture) -> None:
    product = create(client, store)
    response = client.put(
        f"/v1/products/{product['id']}", json={"hidden": True}, headers=store.headers
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"type", "title"}


def test_delete_answers_204_then_the_product_is_gone(
    client: TestClient, store: StoreFixture
) -> None:
    product = create(client, store)
    response = client.delete(f"/v1/products/{product['id']}", headers=store.headers)
    assert response.status_code == 204 and response.content == b""
    missing = {"success": False, "message": "Product not found."}
    assert client.get(f"/v1/products/{product['id']}", headers=store.headers).json() == missing
    again = client.delete(f"/v1/products/{product['id']}", headers=store.headers)
    assert again.status_code == 404 and again.json() == missing


def test_category_filter_includes_subcategories(client: TestClient, store: StoreFixture) -> None:
    doors = category(client, store, "Doors")
    interior = category(client, store, "Interior", doors)
    sliding = category(client, store, "Sliding", interior)
    windows = category(client, store, "Windows")
    in_doors = create(client, store, title="Front door", categories=[{"id": doors}])
    in_sliding = create(client, store, title="Barn door", categories=[{"id": sliding}])
    in_windows = create(client, store, title="Skylight", categories=[{"id": windows}])
    create(client, store, title="Uncategorized")

    def ids(category_id: int | str) -> list[int]:
        response = client.get(f"/v1/products?category_id={category_id}", headers=store.headers)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert ids(doors) == [in_doors["id"], in_sliding["id"]]
    assert ids(interior) == [in_sliding["id"]]
    assert ids(sliding) == [in_sliding["id"]]
    assert ids(windows) == [in_windows["id"]]
    assert ids(999_999_999) == []

    for query, message in (
        ("doors", "The category_id parameter must be an integer."),
        ("-1", "The category_id parameter must be at least 0."),
        ("99999999999", "The category_id parameter may not be greater than 2147483647."),
    ):
        bad = client.get(f"/v1/products?category_id={query}", headers=store.headers)
        assert bad.status_code == 400
        assert bad.json() == {"success": False, "message": message}


def test_title_filter_is_a_case_insensitive_substring(
    client: TestClient, store: StoreFixture
) -> None:
    door = create(client, store, title="Interior Door")
    front = create(client, store, title="front door")
    sale = create(client, store, title="Window 50%_off")

    def titles(text: str) -> list[int]:
        response = client.get("/v1/products", params={"title": text}, headers=store.headers)
        return [p["id"] for p in response.json()["items"]]

    assert titles("DOOR") == [door["id"], front["id"]]
    assert titles("or D") == [door["id"]]
    # LIKE wildcards in the text are matched literally.
    assert titles("%") == [sale["id"]]
    assert titles("_") == [sale["id"]]
    assert titles("shirt") == []
    nul = client.get("/v1/products", params={"title": "do\x00or"}, headers=store.headers)
    assert (nul.status_code, nul.json()) == (
        400,
        {"success": False, "message": "The title parameter must not contain NUL characters."},
    )
    both = client.get(
        "/v1/products", params={"title": "door", "limit": 1, "skip": 1}, headers=store.headers
    ).json()
    assert (both["totalCount"], [p["id"] for p in both["items"]]) == (2, [front["id"]])


def test_update_existing_product_by_url(client: TestClient, store: StoreFixture) -> None:
    original = create(client, store, title="Interior Door", url="interior-door")

    conflict = client.post(
        "/v1/products",
        json={"type": "physical", "title": "Copy", "url": "interior-door"},
        headers=store.headers,
    )
    assert conflict.status_code == 409
    assert conflict.json() == {
        "success": False,
        "message": "A product with this URL already exists.",
    }
    refused = client.post(
        "/v1/products?update_existing_product_by_url=false",
        json={"type": "physical", "title": "Copy", "url": "interior-door"},
        headers=store.headers,
    )
    assert refused.status_code == 409

    updated = client.post(
        "/v1/products?update_existing_product_by_url=true",
        json={"type": "physical", "title": "Interior Door v2", "url": "interior-door"},
        headers=store.headers,
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["id"], updated.json()["title"]) == (original["id"], "Interior Door v2")

    fresh = client.post(
        "/v1/products?update_existing_product_by_url=true",
        json={"type": "physical", "title": "Exterior Door", "url": "exterior-door"},
        headers=store.headers,
    )
    assert fresh.status_code == 201 and fresh.json()["id"] != original["id"]
    assert client.get("/v1/products", headers=store.headers).json()["totalCount"] == 2

    bad = client.post(
        "/v1/products?update_existing_product_by_url=maybe",
        json={"type": "physical", "title": "X"},
        headers=store.headers,
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "success": False,
        "message": "The update_existing_product_by_url parameter must be true or false.",
    }


def test_put_to_another_products_url_is_a_conflict(client: TestClient, store: StoreFixture) -> None:
    create(client, store, title="A", url="a")
    b = create(client, store, title="B", url="b")
    response = client.put(
        f"/v1/products/{b['id']}",
        json={"type": "physical", "title": "B", "url": "a"},
        headers=store.headers,
    )
    assert response.status_code == 409
    same = client.put(
        f"/v1/products/{b['id']}",
        json={"type": "physical", "title": "B", "url": "b"},
        headers=store.headers,
    )
    assert same.status_code == 200


def test_url_is_made_from_the_title_when_omitted(client: TestClient, store: StoreFixture) -> None:
    first = create(client, store, title="Interior Door")
    second = create(client, store, title="Interior  door!")
    assert (first["url"], second["url"]) == ("interior-door", "interior-door-2")


def test_pagination_edges(client: TestClient, store: StoreFixture) -> None:
    made = [create(client, store, title=f"P{i}")["id"] for i in range(3)]
    page = client.get("/v1/products?limit=2", headers=store.headers).json()
    assert (page["totalCount"], page["limit"], page["skip"]) == (3, 2, 0)
    assert [p["id"] for p in page["items"]] == made[:2]
    rest = client.get("/v1/products?limit=2&skip=2", headers=store.headers).json()
    assert [p["id"] for p in rest["items"]] == made[2:]
    past = client.get("/v1/products?skip=10", headers=store.headers).json()
    assert (past["items"], past["totalCount"]) == ([], 3)
    default = client.get("/v1/products", headers=store.headers).json()
    assert (default["limit"], default["skip"]) == (30, 0)
    assert client.get("/v1/products?limit=50", headers=store.headers).status_code == 200
    for query, message in (
        ("limit=0", "The limit parameter must be between 1 and 50."),
        ("limit=51", "The limit parameter must be between 1 and 50."),
        ("limit=ten", "The limit parameter must be an integer."),
        ("skip=-1", "The skip parameter must be at least 0."),
    ):
        response = client.get(f"/v1/products?{query}", headers=store.headers)
        assert response.status_code == 400, query
        assert response.json() == {"success": False, "message": message}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"type": "physical"}, "title", "The title field is required."),
        ({"title": "X"}, "type", "The type field is required."),
        ({"type": "physical", "title": ""}, "title", "The title field may not be empty."),
        (
            {"type": "furniture", "title": "X"},
            "type",
            "The type field is invalid.",
        ),
        (
            {"type": "physical", "title": "X", "images": ["not a url"]},
            "images.0",
            "The images.0 field must be an absolute http(s) URL.",
        ),
        (
            {"type": "digital", "title": "X", "file": "ftp://files/x.pdf"},
            "file",
            "The file field must be an absolute http(s) URL.",
        ),
        (
            {"type": "physical", "title": "X", "categories": [{}]},
            "categories.0",
            "The categories.0 field needs an id, a name or a url.",
        ),
        (
            {"type": "physical", "title": "X", "categories": [{"id": 999_999_999}]},
            "categories.0.id",
            "The category 999999999 does not exist.",
        ),
        (
            {"type": "physical", "title": "X", "categories": [{"name": "A", "parentCategory": 9}]},
            "categories.0.parentCategory",
            "The parent category 9 does not exist.",
        ),
        (
            {"type": "physical", "title": "X" * 501},
            "title",
            "The title field may not be greater than 500 characters.",
        ),
        (
            {"type": "physical", "title": "X", "url": "u" * 1001},
            "url",
            "The url field may not be greater than 1000 characters.",
        ),
        (
            {"type": "physical", "title": "Door\u0000"},
            "title",
            "The title field must not contain NUL characters.",
        ),
        (
            {"type": "physical", "title": "X", "options": [{"name": "Size", "values": ["\u0000"]}]},
            "options.0.values.0",
            "The options.0.values.0 field must not contain NUL characters.",
        ),
        (
            {"type": "physical", "title": "X", "variants": [{"price": "cheap"}]},
            "variants.0.price",
            "The variants.0.price field must be a number.",
        ),
    ],
)
def test_validation_errors(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/v1/products", json=body, headers=store.headers)
    assert response.status_code == 422, response.text
    assert response.json() == {"success": False, "message": message, "errors": {field: [message]}}
    assert client.get("/v1/products", headers=store.headers).json()["totalCount"] == 0
    assert client.get("/v1/categories", headers=store.headers).json() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The request body is not valid JSON: "),
        (b"\xff\xfe", "The request body is not valid JSON: "),
        (b"", "The request body is empty; a JSON object is expected."),
        (b"[1, 2]", "The request body must be a JSON object."),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(
    client: TestClient, store: StoreFixture, content: bytes, message: str
) -> None:
    headers = {**store.headers, "Content-Type": "application/json"}
    for method, path in (("POST", "/v1/products"), ("PUT", "/v1/products/1")):
        response = client.request(method, path, content=content, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["message"].startswith(message)


def test_ids_that_cannot_exist(client: TestClient, store: StoreFixture) -> None:
    huge = client.get("/v1/products/99999999999", headers=store.headers)
    assert huge.status_code == 404
    assert huge.json() == {"success": False, "message": "Product not found."}
    assert client.get("/v1/products/abc", headers=store.headers).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/products"),
        ("POST", "/v1/products"),
        ("GET", "/v1/products/1"),
        ("PUT", "/v1/products/1"),
        ("DELETE", "/v1/products/1"),
        ("GET", "/v1/categories"),
        ("POST", "/v1/categories"),
    ],
)
def test_every_operation_needs_the_secret_key(client: TestClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.json() == {"success": False, "message": "Unauthenticated."}


def test_another_store_reads_changes_and_detects_nothing(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    doors = category(client, store, "Doors")
    product = create(client, store, title="Door", url="door", categories=[{"id": doors}])
    path = f"/v1/products/{product['id']}"
    not_found = {"success": False, "message": "Product not found."}

    assert client.get(path, headers=other_store.headers).json() == not_found
    put = client.put(path, json={"type": "digital", "title": "Hacked"}, headers=other_store.headers)
    assert (put.status_code, put.json()) == (404, not_found)
    delete = client.delete(path, headers=other_store.headers)
    assert (delete.status_code, delete.json()) == (404, not_found)
    assert client.get("/v1/products", headers=other_store.headers).json()["totalCount"] == 0
    listed = client.get(f"/v1/products?category_id={doors}", headers=other_store.headers)
    assert listed.json()["totalCount"] == 0
    # The same URL is free in another store, even when asked to update by URL.
    theirs = client.post(
        "/v1/products?update_existing_product_by_url=true",
        json={"type": "physical", "title": "Their door", "url": "door"},
        headers=other_store.headers,
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != product["id"]
    # Another store's category id is not a category here.
    foreign = client.post(
        "/v1/products",
        json={"type": "physical", "title": "X", "categories": [{"id": doors}]},
        headers=other_store.headers,
    )
    assert foreign.status_code == 422

    assert client.get(path, headers=store.headers).json() == product


def test_outbox_messages_carry_the_product(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    product = create(client, store, title="Lamp")
    (created,) = outbox(db, store.store_id, "product_created")
    assert created.payload == product

    path = f"/v1/products/{product['id']}"
    changed = client.put(
        path, json={"type": "physical", "title": "Desk lamp"}, headers=store.headers
    )
    client.put(path, json={"type": "physical", "title": "Desk lamp"}, headers=store.headers)
    (updated,) = outbox(db, store.store_id, "product_updated")  # the no-op PUT emitted nothing
    assert updated.payload == changed.json()

    client.delete(path, headers=store.headers)
    assert len(outbox(db, store.store_id)) == 2


def test_openapi_documents_every_operation_with_the_documents_examples(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert set(paths["/v1/products"]) == {"get", "post"}
    assert set(paths["/v1/products/{id}"]) == {"get", "put", "delete"}
    assert set(paths["/v1/categories"]) == {"get", "post"}
    for method in ("post",):
        content = paths["/v1/products"][method]["requestBody"]["content"]["application/json"]
        assert content["examples"]["document"]["value"] == PRODUCT_WRITE_EXAMPLE
    put = paths["/v1/products/{id}"]["put"]["requestBody"]["content"]["application/json"]
    assert put["examples"]["document"]["value"] == PRODUCT_WRITE_EXAMPLE
    params = {p["name"] for p in paths["/v1/products"]["get"]["parameters"]}
    assert {"category_id", "title", "limit", "skip"} <= params
    post_params = {p["name"] for p in paths["/v1/products"]["post"]["parameters"]}
    assert "update_existing_product_by_url" in post_params
    for status in ("400", "401", "404", "422"):
        assert status in paths["/v1/products/{id}"]["put"]["responses"]
    assert "409" in paths["/v1/products"]["post"]["responses"]
    schema = document["components"]["schemas"]["Product"]
    assert all("description" in field for field in schema["properties"].values())
