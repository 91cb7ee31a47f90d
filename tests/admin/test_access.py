"""Signing in and out: argon2 accounts, the session cookie's attributes, the lock-out after
repeated failures, the per-address limit, CSRF on every form, expiry."""

from __future__ import annotations

from datetime import timedelta

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cartwheel.admin import accounts
from cartwheel.admin.pages import ROUTERS
from cartwheel.db import Database
from cartwheel.models import LoginAttempt, Operator, OperatorSession
from cartwheel.models.base import utcnow
from tests.admin.conftest import (
    OperatorFixture,
    SignedInClient,
    browser_client,
    csrf_of,
    make_operator,
    sign_in,
)
from tests.conftest import StoreFixture


def test_pages_send_a_stranger_to_the_sign_in_page(client: TestClient, store: StoreFixture) -> None:
    web = browser_client(client)
    answer = web.get(f"/admin/stores/{store.store_id}/contacts?q=x")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=%2Fadmin%2Fstores%2F")


def test_signing_in_sets_an_http_only_lax_cookie_and_logs_out(
    client: TestClient, db: Database, operator: OperatorFixture, store: StoreFixture
) -> None:
    web = browser_client(client)
    answer = sign_in(web, operator)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    cookie = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("cartwheel_admin=")
    )
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= parts and "secure" not in parts
    assert "samesite=lax" in cookie.lower() and "path=/admin" in cookie.lower()
    home = web.get("/admin")
    assert home.headers["location"] == f"/admin/stores/{store.store_id}"  # the one store
    with db.read() as session:
        row = session.execute(select(Operator).where(Operator.email == operator.email)).scalar_one()
        assert row.password_hash.startswith("$argon2id$")
        assert row.last_login_at is not None
    page = web.get(f"/admin/stores/{store.store_id}")
    assert page.status_code == 200
    out = web.post("/admin/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    assert web.get(f"/admin/stores/{store.store_id}").status_code == 303


def test_the_cookie_is_secure_over_https(client: TestClient, operator: OperatorFixture) -> None:
    web = browser_client(client, https=True)
    answer = sign_in(web, operator)
    cookie = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("cartwheel_admin=")
    )
    assert "secure" in cookie.lower()


def test_a_wrong_password_is_refused_and_five_lock_the_account(
    client: TestClient, db: Database, operator: OperatorFixture
) -> None:
    web = browser_client(client)
    for _ in range(4):
        answer = sign_in(web, operator, "wrong password, wrong")
        assert answer.status_code == 401
        assert "The email or the password is wrong." in answer.text
    assert sign_in(web, operator, "wrong password, wrong").status_code == 401
    locked = sign_in(web, operator)  # the right password, but locked now
    assert locked.status_code == 423
    assert "locked" in locked.text
    with db.transaction() as session:  # the lock-out ends
        session.execute(
            update(Operator)
            .where(Operator.email == operator.email)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert sign_in(web, operator).status_code == 303


def test_an_unknown_email_gets_the_same_answer(client: TestClient) -> None:
    web = browser_client(client)
    answer = sign_in(web, OperatorFixture("nobody@ops.example"), "whatever it is")
    assert answer.status_code == 401
    assert "The email or the password is wrong." in answer.text


def test_too_many_attempts_from_one_address_are_refused(
    client: TestClient, db: Database, operator: OperatorFixture
) -> None:
    address = "10.250.1.2"
    web = browser_client(client, address=address)
    page = web.get("/admin/login")
    now = utcnow()
    with db.transaction() as session:  # the window is full (20 by default)
        session.add_all(
            LoginAttempt(email="x@ops.example", address=address, succeeded=False, attempted_at=now)
            for _ in range(20)
        )
    answer = web.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "email": operator.email, "password": operator.password},
    )
    assert answer.status_code == 429
    assert "Too many sign-in attempts" in answer.text
    elsewhere = browser_client(client)
    assert sign_in(elsewhere, operator).status_code == 303


def test_sign_in_needs_its_own_csrf_value(client: TestClient, operator: OperatorFixture) -> None:
    web = browser_client(client)
    web.get("/admin/login")
    answer = web.post(
        "/admin/login",
        data={"csrf": "forged", "email": operator.email, "password": operator.password},
    )
    assert answer.status_code == 403
    fresh = browser_client(client)  # no cookie at all
    refused = fresh.post(
        "/admin/login", data={"email": operator.email, "password": operator.password}
    )
    assert refused.status_code == 403


def test_every_form_without_its_csrf_token_is_refused(
    admin: SignedInClient, store: StoreFixture
) -> None:
    """Every POST of the back office, with the operator's own store in its path: without
    the token (or with another session's) it is a 403 before anything runs."""
    posts = [
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    assert len(posts) >= 12
    for path in posts:
        if path == "/admin/login":
            continue
        url = path.replace("{store_id}", str(store.store_id))
        for name in (
            "merge_id",
            "segment_id",
            "key_id",
            "credential_id",
            "delivery_id",
            "flow_id",
        ):
            url = url.replace("{" + name + "}", "1")
        url = url.replace("{webhook_id}", "rh_10000000000")
        bare = admin.web.post(url, data={"confirm": "yes"})
        assert bare.status_code == 403, (url, bare.status_code)
        forged = admin.web.post(url, data={"confirm": "yes", "csrf": "not-the-token"})
        assert forged.status_code == 403, url
        header = admin.web.post(url, data={"confirm": "yes"}, headers={"X-CSRF-Token": "nope"})
        assert header.status_code == 403, url


def test_an_expired_session_signs_nobody_in(
    client: TestClient, db: Database, operator: OperatorFixture, store: StoreFixture
) -> None:
    web = browser_client(client)
    sign_in(web, operator)
    with db.transaction() as session:
        operator_id = accounts.by_email(session, operator.email).id  # type: ignore[union-attr]
        session.execute(
            update(OperatorSession)
            .where(OperatorSession.operator_id == operator_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert web.get(f"/admin/stores/{store.store_id}").status_code == 303


def test_an_operator_with_two_stores_chooses_one(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    who = make_operator(db, store.store_id, other_store.store_id)
    web = browser_client(client)
    sign_in(web, who)
    home = web.get("/admin")
    assert home.status_code == 200
    assert f"/admin/stores/{store.store_id}" in home.text
    assert f"/admin/stores/{other_store.store_id}" in home.text


def test_next_never_leaves_the_back_office(client: TestClient, operator: OperatorFixture) -> None:
    web = browser_client(client)
    page = web.get("/admin/login")
    answer = web.post(
        "/admin/login",
        data={
            "csrf": csrf_of(page.text),
            "email": operator.email,
            "password": operator.password,
            "next": "https://evil.example/admin",
        },
    )
    assert answer.headers["location"] == "/admin"


def test_an_htmx_request_of_an_ended_session_sends_the_page_to_sign_in(
    client: TestClient, store: StoreFixture
) -> None:
    web = browser_client(client)
    answer = web.post(
        f"/admin/stores/{store.store_id}/segments/preview", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"].startswith("/admin/login?next=")


def test_production_hashes_are_argon2id_with_the_librarys_parameters() -> None:
    # The hash every unknown email is checked against was made by the production hasher.
    assert accounts._DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
