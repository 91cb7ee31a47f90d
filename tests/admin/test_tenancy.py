"""The API's tenancy rule in the back office: an operator sees only the stores granted to
them, and another store's id anywhere in a URL (the store, a contact, a segment, a webhook,
a delivery, a key, a merge) is a 404, like an id that does not exist; a form aimed at
another store's row changes nothing. Every route of the back office is in the tables below
(a test checks that), so a new page cannot skip this."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.admin.pages import ROUTERS
from cartwheel.db import Database
from cartwheel.models import (
    ApiKey,
    AuditEntry,
    ClientCredential,
    ContactMerge,
    Segment,
    WebhookDelivery,
)
from tests.admin.conftest import Populated, make_operator, populate, signed_in
from tests.conftest import StoreFixture

#: Every page of a store, with the ids it names.
PAGES = [
    "/admin/stores/{store}",
    "/admin/stores/{store}/contacts",
    "/admin/stores/{store}/contacts/{contact}",
    "/admin/stores/{store}/contacts/{contact}/timeline",
    "/admin/stores/{store}/segments",
    "/admin/stores/{store}/segments/new",
    "/admin/stores/{store}/segments/builder-row",
    "/admin/stores/{store}/segments/{segment}",
    "/admin/stores/{store}/segments/{segment}/explain",
    "/admin/stores/{store}/segments/{segment}/edit",
    "/admin/stores/{store}/webhooks",
    "/admin/stores/{store}/webhooks/{webhook}",
    "/admin/stores/{store}/settings",
    "/admin/stores/{store}/audit",
    "/admin/stores/{store}/flows",
    "/admin/stores/{store}/flows/{flow}",
    "/admin/stores/{store}/flows/{flow}/runs/{run}",
    "/admin/stores/{store}/messages",
    "/admin/stores/{store}/messages/{message}",
    "/admin/stores/{store}/templates",
    "/admin/stores/{store}/templates/{template}",
    "/admin/stores/{store}/campaigns",
    "/admin/stores/{store}/campaigns/{campaign}",
]
#: Every form of a store (each would change something if it were let through).
FORMS = [
    "/admin/stores/{store}/merges/{merge}/undo",
    "/admin/stores/{store}/segments/preview",
    "/admin/stores/{store}/segments",
    "/admin/stores/{store}/segments/{segment}",
    "/admin/stores/{store}/segments/{segment}/delete",
    "/admin/stores/{store}/webhooks/{webhook}/deliveries/{delivery}/replay",
    "/admin/stores/{store}/webhooks/{webhook}/pause",
    "/admin/stores/{store}/webhooks/{webhook}/resume",
    "/admin/stores/{store}/settings/keys",
    "/admin/stores/{store}/settings/keys/{key}/revoke",
    "/admin/stores/{store}/settings/credentials",
    "/admin/stores/{store}/settings/credentials/{credential}/revoke",
    "/admin/stores/{store}/settings/origins/{credential}",
    "/admin/stores/{store}/settings/rate-limit",
    "/admin/stores/{store}/settings/smtp-check",
    "/admin/stores/{store}/flows/{flow}/publish",
    "/admin/stores/{store}/flows/{flow}/pause",
    "/admin/stores/{store}/flows/{flow}/resume",
    "/admin/stores/{store}/flows/{flow}/delete",
]
_NAMES = {
    "{store_id}": "{store}",
    "{contact_id}": "{contact}",
    "{segment_id}": "{segment}",
    "{webhook_id}": "{webhook}",
    "{delivery_id}": "{delivery}",
    "{merge_id}": "{merge}",
    "{key_id}": "{key}",
    "{credential_id}": "{credential}",
    "{flow_id}": "{flow}",
    "{run_id}": "{run}",
    "{template_id}": "{template}",
    "{message_id}": "{message}",
    "{campaign_id}": "{campaign}",
}


def _template(path: str) -> str:
    for name, short in _NAMES.items():
        path = path.replace(name, short)
    return path


def test_the_tables_name_every_route_of_a_store() -> None:
    gets, posts = set(), set()
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if not route.path.startswith("/admin/stores/"):
                continue
            (gets if "GET" in route.methods else posts).add(_template(route.path))
    assert gets == set(PAGES)
    assert posts == set(FORMS)


def _url(template: str, own: Populated, other: Populated, swap: str) -> str:
    """``template`` with ``own``'s ids, but ``swap`` (one placeholder) taken from ``other``."""
    values = {
        "store": (own.store.store_id, other.store.store_id),
        "contact": (own.contact_id, other.contact_id),
        "segment": (own.segment_id, other.segment_id),
        "webhook": (own.webhook_id, other.webhook_id),
        "delivery": (own.delivery_id, other.delivery_id),
        "merge": (own.merge_id, other.merge_id),
        "key": (own.key_id, other.key_id),
        "credential": (own.credential_id, other.credential_id),
        "flow": (own.flow_id, other.flow_id),
        "run": (own.run_id, other.run_id),
        "template": (own.template_id, other.template_id),
        "message": (own.message_id, other.message_id),
        "campaign": (own.campaign_id, other.campaign_id),
    }
    url = template
    for name, (mine, theirs) in values.items():
        url = url.replace("{" + name + "}", str(theirs if name == swap else mine))
    return url


def _placeholders(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


def test_another_stores_ids_are_404_on_every_page(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine, theirs = populate(client, db, store), populate(client, db, other_store)
    admin = signed_in(client, make_operator(db, store.store_id))
    htmx = {"HX-Request": "true"}
    for template in PAGES:
        own = admin.get(_url(template, mine, theirs, swap=""), headers=htmx)
        assert own.status_code == 200, (template, own.status_code, own.text[:300])
        for name in _placeholders(template):
            foreign = admin.get(_url(template, mine, theirs, swap=name), headers=htmx)
            assert foreign.status_code == 404, (template, name, foreign.status_code)
    # An id of another store in a query parameter names nothing either.
    explain = admin.get(
        f"/admin/stores/{store.store_id}/segments/{mine.segment_id}/explain"
        f"?contact={theirs.contact_id}"
    )
    assert explain.status_code == 200 and "No contact" in explain.text


def test_forms_aimed_at_another_stores_rows_change_nothing(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine, theirs = populate(client, db, store), populate(client, db, other_store)
    admin = signed_in(client, make_operator(db, store.store_id))
    form = {"confirm": "yes", "name": "x", "origins": "https://a.example", "rate_limit": "5"}
    for template in FORMS:
        for name in _placeholders(template):
            answer = admin.post(_url(template, mine, theirs, swap=name), data=form)
            assert answer.status_code == 404, (template, name, answer.status_code)
    with db.read() as session:
        merge = session.get(ContactMerge, theirs.merge_id)
        assert merge is not None and merge.undone_at is None
        segment = session.get(Segment, theirs.segment_id)
        assert segment is not None and segment.deleted_at is None
        key = session.get(ApiKey, theirs.key_id)
        assert key is not None and key.revoked_at is None
        credential = session.get(ClientCredential, theirs.credential_id)
        assert credential is not None and credential.revoked_at is None
        replays = session.execute(
            select(WebhookDelivery).where(WebhookDelivery.replay_of_id == theirs.delivery_id)
        ).all()
        assert replays == []
        audited = session.execute(
            select(AuditEntry).where(AuditEntry.store_id == other_store.store_id)
        ).all()
        assert audited == []


def test_an_operator_sees_only_granted_stores(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    admin = signed_in(client, make_operator(db, store.store_id))
    home = admin.get("/admin/stores/" + str(store.store_id))
    assert "store B" not in home.text
    nobody = signed_in(client, make_operator(db))
    assert nobody.get(f"/admin/stores/{store.store_id}").status_code == 404
    listing = nobody.get("/admin")
    assert listing.status_code == 200 and "No store has been granted" in listing.text
    for raw in ("0", "abc", "99999999999", "%00", "1e3", "-1"):
        assert admin.get(f"/admin/stores/{raw}").status_code == 404
