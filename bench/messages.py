"""Messaging benchmark: emails rendered and delivered per second to an SMTP server on
loopback, and the cost of rendering a typical order template.

Queues ``--messages`` transactional order emails (Cartwheel's default order status template:
the contact, the order and its three lines, CSS inlined, a text part) for as many contacts,
then runs the send task (one worker, in this process) until every message is sent. The SMTP
server is aiosmtpd in its own process, counting what it receives, so the figure is
Cartwheel's side: claim and render in one transaction, send over one SMTP session per batch,
record every attempt.

    python -m bench.messages                          # both engines
    python -m bench.messages --engine sqlite --messages 2000
    python -m bench.messages --engine sqlite --order-each   # an order per message

PostgreSQL: the server named by CARTWHEEL_BENCH_POSTGRES_URL (an admin URL), else a
throwaway cluster (needs initdb).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import uuid
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bench.ingest import database
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.messages import defaults, rendering, service, variables
from cartwheel.messages.sending import SendTask
from cartwheel.migrate import migrate
from cartwheel.models import Contact, Message, Order, OrderItem, Store
from cartwheel.stores import service as stores


def _smtp_server(ready: Connection, received: Synchronized) -> None:  # type: ignore[type-arg]
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with received.get_lock():
                received.value += 1
            return "250 OK"

    class Loopback(Controller):
        def _trigger_server(self) -> None:
            assert self.server is not None
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = Loopback(Counter(), hostname="127.0.0.1", port=0)
    controller.start()
    ready.send(controller.port)
    ready.recv()  # told when the sending starts
    started = time.process_time()
    ready.recv()  # wait to be told to stop
    ready.send(time.process_time() - started)  # the server's own CPU while it received
    controller.stop()


_LINES = [("T-shirt", 2, 25.0), ("Mug", 1, 20.0), ("Poster", 3, 10.0)]


def _orders(session: Session, store_id: int, first_invoice: int, count: int) -> list[int]:
    """``count`` shipped orders of three lines each."""
    ids = list(
        session.execute(
            insert(Order).returning(Order.id),
            [
                {
                    "store_id": store_id,
                    "invoice_no": first_invoice + n,
                    "customer_name": "Ann Example",
                    "customer_email": "ann@example.com",
                    "status": "shipped",
                    "total": 104.0,
                    "sub_total": 100.0,
                    "currency": "EUR",
                }
                for n in range(count)
            ],
        ).scalars()
    )
    session.execute(
        insert(OrderItem),
        [
            {
                "store_id": store_id,
                "order_id": order_id,
                "position": n,
                "name": name,
                "quantity": q,
                "price": p,
                "total": q * p,
            }
            for order_id in ids
            for n, (name, q, p) in enumerate(_LINES)
        ],
    )
    return ids


def _setup(db: Database, messages: int, order_each: bool = False) -> int:
    """A store and ``messages`` queued order status emails, each for a contact of its own;
    all about one order, or (``order_each``) each about an order of its own."""
    with db.transaction() as session:
        store_id = stores.create_store(session, "bench").store_id
        [shared] = _orders(session, store_id, 1001, 1)
    for start in range(0, messages, 1000):
        with db.transaction() as session:
            count = min(messages, start + 1000) - start
            contacts = [
                {
                    "store_id": store_id,
                    "uuid": uuid.uuid4(),
                    "email": f"c{start + n}@example.com",
                    "first_name": f"Ann {start + n}",
                    "subscribed": True,
                }
                for n in range(count)
            ]
            ids = session.execute(insert(Contact).returning(Contact.id), contacts).scalars()
            order_ids = (
                _orders(session, store_id, 2001 + start, count) if order_each else [shared] * count
            )
            for contact_id, order_id in zip(ids, order_ids, strict=True):
                service.enqueue_transactional(
                    session,
                    store_id,
                    defaults.ORDER_STATUS,
                    contact_id,
                    idempotency_key=f"bench:{contact_id}",
                    order_id=order_id,
                )
    return store_id


def render_cost(db: Database, store_id: int, rounds: int = 2000) -> tuple[float, float]:
    """CPU µs per message (this process's CPU time: the machine's other load does not
    count): rendering alone (variables built beforehand), and with the variables read from
    the database (contact view, order and lines) each time. Every render is for another
    first name, so no render repeats one before it (identical bodies are inlined and
    turned into text once: that would flatter the figure)."""
    default = defaults.DEFAULTS[defaults.ORDER_STATUS]
    source = rendering.Source("email", default.subject, default.body, None)
    with db.read() as session:
        store = session.get(Store, store_id)
        contacts = list(
            session.scalars(select(Contact).where(Contact.store_id == store_id).limit(rounds // 4))
        )
        order_id = session.scalar(select(Order.id).where(Order.store_id == store_id))
        assert store is not None and contacts
        records = variables.Records(store, contacts[0], {"order_id": order_id})
        view = variables.contact_views(session, contacts[:1])[contacts[0].id]
        values = variables.build(session, records, view)
        each = [
            {**values, "contact": {**values["contact"], "firstName": f"Ann {n}"}}
            for n in range(rounds)
        ]
        rendering.render(source, values)
        started = time.process_time()
        for one in each:
            rendering.render(source, one)
        alone = (time.process_time() - started) / rounds * 1e6
        started = time.process_time()
        for contact in contacts:
            records = variables.Records(store, contact, {"order_id": order_id})
            view = variables.contact_views(session, [contact])[contact.id]
            rendering.render(source, variables.build(session, records, view))
        with_reads = (time.process_time() - started) / len(contacts) * 1e6
    return alone, with_reads


def bench_engine(
    engine: str, messages: int, max_seconds: float, order_each: bool = False
) -> list[str]:
    context = multiprocessing.get_context("spawn")
    received = context.Value("q", 0)
    parent, child = context.Pipe()
    server = context.Process(target=_smtp_server, args=(child, received), daemon=True)
    server.start()
    port = parent.recv()
    signals = 2
    try:
        with database(engine) as url:
            db = Database(url)
            migrate(db.engine)
            started = time.perf_counter()
            store_id = _setup(db, messages, order_each)
            queued_seconds = time.perf_counter() - started
            settings = Settings(
                database_url=url,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                public_url="https://cartwheel.example.com",
            )
            task = SendTask(settings)
            parent.send("start")
            signals -= 1
            started = time.perf_counter()
            cpu_started = time.process_time()
            deadline = started + max_seconds
            while time.perf_counter() < deadline and task(db):
                pass
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            parent.send("stop")
            signals -= 1
            server_cpu = parent.recv()
            task.close()
            with db.read() as session:
                sent = (
                    session.scalar(
                        select(func.count()).select_from(Message).where(Message.status == "sent")
                    )
                    or 0
                )
            alone, with_reads = render_cost(db, store_id)
            db.dispose()
    finally:
        for _ in range(signals):  # the server waits for "start", then "stop"
            parent.send("stop")
        server.join(10)
    return [
        f"{engine}: queued {messages} messages in {queued_seconds:.2f} s",
        f"{engine}: rendered and delivered {sent}/{messages} in {elapsed:.2f} s "
        f"= {sent / elapsed:,.0f} messages/s (SMTP server counted {received.value}); "
        f"Cartwheel's CPU {cpu / max(sent, 1) * 1e3:.2f} ms/message "
        f"= {max(sent, 1) / cpu:,.0f} messages per CPU-second; "
        f"the SMTP server's CPU {server_cpu / max(sent, 1) * 1e3:.2f} ms/message",
        f"{engine}: order template render {alone:,.0f} µs CPU/message; "
        f"with its variables read from the database {with_reads:,.0f} µs CPU/message",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=2000, help="Messages to send.")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="Stop after this long.")
    parser.add_argument(
        "--order-each",
        action="store_true",
        help="Each message about an order of its own (default: all about one order).",
    )
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        for line in bench_engine(engine, args.messages, args.max_seconds, args.order_each):
            print(line, flush=True)


if __name__ == "__main__":
    main()
