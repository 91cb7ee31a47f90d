"""One batch, many messages: the records their templates name are read for the whole
batch at once, and what the relay received is each message's own."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, insert

from cartwheel.db import Database
from cartwheel.messages import defaults, service
from cartwheel.models import Order, OrderItem
from tests.conftest import StoreFixture
from tests.messages.conftest import SmtpServer
from tests.messages.helpers import make_contact

MESSAGES = 12


def _order(db: Database, store_id: int, invoice_no: int) -> int:
    with db.transaction() as session:
        order = Order(
            store_id=store_id,
            invoice_no=invoice_no,
            customer_name="Ann Example",
            status="shipped",
            total=10.0 * invoice_no,
            sub_total=10.0 * invoice_no,
            currency="EUR",
        )
        session.add(order)
        session.flush()
        session.execute(
            insert(OrderItem),
            [
                {
                    "store_id": store_id,
                    "order_id": order.id,
                    "position": n,
                    "name": f"Item {invoice_no}-{n}",
                    "quantity": 1,
                    "price": 5.0,
                    "total": 5.0,
                }
                for n in range(2)
            ],
        )
        return order.id


def test_a_batch_reads_its_orders_in_a_fixed_number_of_queries(
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    foreign = _order(db, other_store.store_id, 999)
    contacts = [
        make_contact(db, store.store_id, email=f"c{n}@example.com") for n in range(MESSAGES)
    ]
    order_ids = [foreign] + [_order(db, store.store_id, 100 + n) for n in range(1, MESSAGES)]
    with db.transaction() as session:
        for n, (contact_id, order_id) in enumerate(zip(contacts, order_ids, strict=True)):
            service.enqueue_transactional(
                session,
                store.store_id,
                defaults.ORDER_STATUS,
                contact_id,
                idempotency_key=f"order:{n}",
                order_id=order_id,
            )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert sender(store.store_id)(db) == MESSAGES
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    order_reads = [
        s for s in statements if re.search(r"\bFROM (orders|order_items)\b", s, re.IGNORECASE)
    ]
    assert len(order_reads) == 2, order_reads  # the orders, then their lines
    by_address = {got.rcpt_tos[0]: got.message for got in smtp_server.received}
    assert len(by_address) == MESSAGES
    for n in range(1, MESSAGES):
        mail = by_address[f"c{n}@example.com"]
        assert mail["Subject"] == f"Order {100 + n}: shipped"
        html = mail.get_body(("html",))
        assert html is not None
        assert f"Item {100 + n}-1" in html.get_content()
        assert f"Item {100 + n + 1}-1" not in html.get_content()
    # Another store's order is not this store's message's to show.
    assert "999" not in str(by_address["c0@example.com"]["Subject"])
    assert "Item 999" not in str(by_address["c0@example.com"])
