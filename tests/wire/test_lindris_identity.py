"""Lindris identity and flags: the ``uuid`` of a response names the person in later calls,
``test`` stores nothing, ``silent`` stores a silent event, ``is_contact`` syncs the contact
without overwriting its source, and one store's uuids and contacts are invisible to another."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cartwheel.db import Database
from tests.conftest import StoreFixture
from tests.wire.lindris_helpers import (
    accepted,
    by_email,
    contact_by_uuid,
    contact_events,
    contacts,
    invalid,
    post,
    stored_events,
)

UNKNOWN_UUID = "318835f4-f968-4894-9847-358399823d6c"
UUID_INVALID = {"uuid": ["The selected uuid is invalid."]}


def event(**fields: object) -> dict[str, object]:
    return {"eventName": "clicked_home_cta", "source": "woocommerce", **fields}


def test_the_answered_uuid_identifies_the_person_later(
    client: TestClient, store: StoreFixture
) -> None:
    first = accepted(post(client, store, "/api/events", event(email="ann@example.com")))
    again = accepted(post(client, store, "/api/events", event(uuid=first["uuid"])))
    cart = {"uuid": first["uuid"].upper(), "source": "woocommerce", "id": "c1"}
    lifecycle = accepted(post(client, store, "/api/events/cart/updated", cart))
    assert again["uuid"] == lifecycle["uuid"] == first["uuid"]
    contact = by_email(client, store, "ann@example.com")
    assert contact is not None
    assert contact["uuid"] == first["uuid"]
    assert len(contact_events(client, store, contact["id"])) == 3


def test_uuid_wins_over_reference_id_and_email(client: TestClient, store: StoreFixture) -> None:
    ann = accepted(post(client, store, "/api/events", event(referenceId="ann")))
    answer = accepted(
        post(client, store, "/api/events", event(uuid=ann["uuid"], email="ann@example.com"))
    )
    assert answer["uuid"] == ann["uuid"]
    # The email, new, is attached to the person the uuid named.
    contact = by_email(client, store, "ann@example.com")
    assert contact is not None
    assert contact["uuid"] == ann["uuid"] and contact["externalIds"] == ["ann"]


def test_reference_id_wins_over_email(client: TestClient, store: StoreFixture) -> None:
    by_mail = accepted(post(client, store, "/api/events", event(email="bob@example.com")))
    by_ref = accepted(post(client, store, "/api/events", event(referenceId="cust_2")))
    both = accepted(
        post(client, store, "/api/events", event(referenceId="cust_2", email="bob@example.com"))
    )
    assert both["uuid"] == by_ref["uuid"] != by_mail["uuid"]
    # bob's email belongs to another person: it stays there (recorded as a conflict).
    bob = by_email(client, store, "bob@example.com")
    assert bob is not None
    assert bob["uuid"] == by_mail["uuid"] and bob["externalIds"] == []


def test_an_unknown_uuid_alone_is_invalid_but_falls_through_with_another_identifier(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    assert invalid(post(client, store, "/api/events", event(uuid=UNKNOWN_UUID))) == UUID_INVALID
    assert (
        invalid(post(client, store, "/api/events", event(uuid=UNKNOWN_UUID, test=True)))
        == UUID_INVALID
    )
    assert stored_events(db, store) == []
    answer = accepted(
        post(client, store, "/api/events", event(uuid=UNKNOWN_UUID, referenceId="cust_9"))
    )
    assert answer["uuid"] != UNKNOWN_UUID


def test_test_events_answer_but_store_nothing(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    unknown = accepted(post(client, store, "/api/events", event(email="cy@example.com", test=True)))
    assert "uuid" not in unknown
    assert by_email(client, store, "cy@example.com") is None
    assert stored_events(db, store) == []
    known = accepted(post(client, store, "/api/events", event(email="cy@example.com")))
    for path, body in (
        ("/api/events", event(email="cy@example.com", test=True)),
        ("/api/events", event(uuid=known["uuid"], test=1)),
        (
            "/api/events/customer/updated",
            {
                "email": "cy@example.com",
                "source": "woocommerce",
                "id": "c",
                "is_contact": True,
                "first_name": "Changed",
                "test": "1",
            },
        ),
    ):
        assert accepted(post(client, store, path, body))["uuid"] == known["uuid"]
    contact = by_email(client, store, "cy@example.com")
    assert contact is not None
    assert contact["firstName"] is None
    assert len(stored_events(db, store)) == 1
    # test still validates
    assert "source" in invalid(post(client, store, "/api/events", {"test": True}))


def test_silent_events_are_stored_with_the_silent_flag(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    accepted(post(client, store, "/api/events", event(email="di@example.com", silent=True)))
    accepted(post(client, store, "/api/events", event(email="di@example.com")))
    accepted(post(client, store, "/api/events", event(email="di@example.com", silent="0")))
    assert [e.silent for e in stored_events(db, store)] == [True, False, False]


def test_generic_properties_are_split_into_typed_properties_and_extra(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    properties = {
        "plan": "gold",
        "seats": 3,
        "trial": True,
        "renews": "2024-04-01T00:00:00+02:00",
        "tags": ["a", "b"],
        "address": {"city": "Oslo"},
    }
    answer = accepted(
        post(client, store, "/api/events", event(email="eve@example.com", properties=properties))
    )
    (event_row,) = stored_events(db, store)
    assert event_row.properties == {
        "plan": "gold",
        "seats": 3,
        "trial": True,
        "renews": "2024-03-31T22:00:00Z",
    }
    assert event_row.property_types == {
        "plan": "string",
        "seats": "number",
        "trial": "boolean",
        "renews": "date",
    }
    assert event_row.extra == {"tags": ["a", "b"], "address": {"city": "Oslo"}}
    contact = contact_by_uuid(client, store, answer["uuid"])
    (listed,) = contact_events(client, store, contact["id"])
    assert listed["name"] == "clicked_home_cta" and listed["properties"]["seats"] == 3


def test_customer_is_contact_creates_then_updates_without_overwriting_source(
    client: TestClient, store: StoreFixture
) -> None:
    # The person is first seen from another platform.
    first = accepted(
        post(client, store, "/api/events", {**event(email="fay@example.com"), "source": "shopify"})
    )
    customer = {
        "email": "fay@example.com",
        "source": "woocommerce",
        "id": "cust_7",
        "is_contact": True,
        "first_name": "Fay",
        "last_name": "Lee",
        "name": "Fay Lee",
        "phone": "(555) 123-0007",
        "address": {
            "address1": "1 Fjord Rd",
            "city": "Bergen",
            "state": "VL",
            "postal_code": "5003",
            "country": "NO",
            "company": "Fjord AS",
        },
    }
    answer = accepted(post(client, store, "/api/events/customer/created", customer))
    assert answer["uuid"] == first["uuid"]
    contact = by_email(client, store, "fay@example.com")
    assert contact is not None
    assert contact["source"] == "shopify"
    assert (contact["firstName"], contact["lastName"], contact["name"]) == ("Fay", "Lee", "Fay Lee")
    assert contact["phone"] == "+15551230007"
    assert (contact["city"], contact["zip"], contact["country"], contact["companyName"]) == (
        "Bergen",
        "5003",
        "NO",
        "Fjord AS",
    )
    # Only the fields given are updated; without is_contact nothing is.
    update = {"email": "fay@example.com", "source": "woocommerce", "id": "cust_7"}
    accepted(
        post(
            client,
            store,
            "/api/events/customer/updated",
            {**update, "is_contact": True, "last_name": "Berg"},
        )
    )
    accepted(
        post(client, store, "/api/events/customer/updated", {**update, "first_name": "Nobody"})
    )
    contact = by_email(client, store, "fay@example.com")
    assert contact is not None
    assert (contact["firstName"], contact["lastName"], contact["city"]) == ("Fay", "Berg", "Bergen")
    assert contact["source"] == "shopify"


def test_customer_is_contact_creates_the_contact_from_customer_email(
    client: TestClient, store: StoreFixture
) -> None:
    customer = {
        "referenceId": 501,
        "source": "woocommerce",
        "id": 501,
        "is_contact": True,
        "customer_email": "Gus@Example.com",
        "first_name": "Gus",
        "billing_address": {"city": "Lyon", "country": "FR"},
    }
    answer = accepted(post(client, store, "/api/events/customer/created", customer))
    contact = by_email(client, store, "gus@example.com")
    assert contact is not None
    assert contact["uuid"] == answer["uuid"]
    assert contact["externalIds"] == ["501"]
    assert (contact["firstName"], contact["city"], contact["source"]) == (
        "Gus",
        "Lyon",
        "woocommerce",
    )


def test_customer_email_does_not_replace_the_identifying_email(
    client: TestClient, store: StoreFixture
) -> None:
    customer = {
        "email": "hal@example.com",
        "source": "woocommerce",
        "id": "c",
        "is_contact": True,
        "customer_email": "hal.billing@example.com",
    }
    accepted(post(client, store, "/api/events/customer/created", customer))
    contact = by_email(client, store, "hal@example.com")
    assert contact is not None
    assert contact["email"] == "hal@example.com"
    assert by_email(client, store, "hal.billing@example.com") is None


def test_user_is_contact_uses_display_name(client: TestClient, store: StoreFixture) -> None:
    user = {
        "email": "ivy@example.com",
        "source": "wordpress",
        "id": 12,
        "is_contact": True,
        "display_name": "Ivy V.",
        "first_name": "Ivy",
    }
    accepted(post(client, store, "/api/events/user/updated", user))
    contact = by_email(client, store, "ivy@example.com")
    assert contact is not None
    assert (contact["name"], contact["firstName"], contact["source"]) == (
        "Ivy V.",
        "Ivy",
        "wordpress",
    )


def test_another_stores_uuid_does_not_resolve_and_its_contacts_are_invisible(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine = accepted(post(client, store, "/api/events", event(email="jo@example.com")))
    my_contact = by_email(client, store, "jo@example.com")
    assert my_contact is not None
    # Store B cannot use A's uuid: alone it is invalid, exactly like an unknown uuid ...
    assert invalid(post(client, other_store, "/api/events", event(uuid=mine["uuid"]))) == (
        UUID_INVALID
    )
    assert (
        invalid(post(client, other_store, "/api/events", event(uuid=mine["uuid"], test=True)))
        == UUID_INVALID
    )
    # ... and with an identifier of B's own it names a new person of B, not A's.
    theirs = accepted(
        post(
            client,
            other_store,
            "/api/events/order/created",
            {"uuid": mine["uuid"], "email": "jo@example.com", "source": "s", "id": "o1"},
        )
    )
    assert theirs["uuid"] != mine["uuid"]
    assert len(contact_events(client, store, my_contact["id"])) == 1
    assert len(stored_events(db, store)) == 1
    # B sees none of A's contacts or events.
    their_contact = by_email(client, other_store, "jo@example.com")
    assert their_contact is not None
    assert their_contact["uuid"] == theirs["uuid"]
    assert all(c["uuid"] != mine["uuid"] for c in contacts(client, other_store))
    response = client.get(f"/v1/contacts/{my_contact['id']}/events", headers=other_store.headers)
    assert response.status_code == 404
