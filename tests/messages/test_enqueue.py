"""enqueue_message: a queued row in the caller's transaction, one per idempotency key."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.exceptions import NotFound
from cartwheel.messages import service
from cartwheel.models import Contact, Message, MessageTemplate
from tests.conftest import StoreFixture


def _template_and_contact(db: Database, store_id: int) -> tuple[int, int]:
    with db.transaction() as session:
        template = MessageTemplate(
            store_id=store_id, name="t", channel="email", topic="marketing", subject="s", body="b"
        )
        contact = Contact(store_id=store_id, uuid=__import__("uuid").uuid4(), email="a@x.test")
        session.add_all([template, contact])
        session.flush()
        return template.id, contact.id


def test_enqueue_is_idempotent_and_rolls_back_with_the_caller(
    db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    template_id, contact_id = _template_and_contact(db, store.store_id)
    with db.transaction() as session:
        first = service.enqueue_message(
            session,
            store.store_id,
            template_id,
            contact_id,
            idempotency_key="run:1:step:1",
            order_id=7,
            data={"coupon": "X"},
        )
        again = service.enqueue_message(
            session, store.store_id, template_id, contact_id, idempotency_key="run:1:step:1"
        )
        assert again.id == first.id
        assert first.status == "queued" and first.channel == "email"
        assert first.context == {"order_id": 7, "data": {"coupon": "X"}}
    with pytest.raises(RuntimeError), db.transaction() as session:
        service.enqueue_message(
            session, store.store_id, template_id, contact_id, idempotency_key="run:1:step:2"
        )
        raise RuntimeError("the caller fails")
    with db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(Message).where(Message.store_id == store.store_id)
        )
    assert count == 1
    with pytest.raises(NotFound), db.transaction() as session:
        service.enqueue_message(
            session, other_store.store_id, template_id, contact_id, idempotency_key="k"
        )
