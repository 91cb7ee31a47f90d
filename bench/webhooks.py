"""Webhook delivery benchmark: signed deliveries per second to a receiver on loopback.

Queues ``--messages`` outbox messages for ``--subscriptions`` webhooks of one store, fans
them out (worker transaction), then runs the delivery task until every delivery succeeded
or ``--max-seconds`` passed. The receiver is a minimal keep-alive HTTP/1.1 server in its own
process, answering 200 at once, so the figure is Cartwheel's side: claim, sign, POST,
record each attempt in its own transaction.

    python -m bench.webhooks                                  # both engines
    python -m bench.webhooks --engine sqlite --messages 500 --subscriptions 16

PostgreSQL: the server named by CARTWHEEL_BENCH_POSTGRES_URL (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), else a throwaway cluster (needs initdb).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

from sqlalchemy import func, select

from bench.ingest import database
from cartwheel import outbox
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.models import WebhookDelivery
from cartwheel.stores import service as stores
from cartwheel.webhooks import service as webhooks
from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.webhooks.fanout import fan_out_message
from cartwheel.webhooks.schemas import WebhookInput
from cartwheel.worker.queue import process_outbox

ORDER = {
    "id": 1234,
    "invoiceNo": 15,
    "created": 1573397217,
    "customerName": "John Doe",
    "customerEmail": "john@email.com",
    "subTotal": 49,
    "total": 49,
    "paid": True,
    "status": "completed",
    "items": [{"id": 123, "name": "Running Shoes", "productId": 24, "quantity": 1, "total": 49}],
}


def _receiver(ready: Connection, received: Synchronized) -> None:  # type: ignore[type-arg]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                with received.get_lock():
                    received.value += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        ready.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def bench_engine(
    engine: str, messages: int, subscriptions: int, max_seconds: float, per_subscription: int
) -> list[str]:
    context = multiprocessing.get_context("spawn")
    received = context.Value("q", 0)
    parent, child = context.Pipe()
    receiver = context.Process(target=_receiver, args=(child, received), daemon=True)
    receiver.start()
    port = parent.recv()
    try:
        with database(engine) as url:
            settings = Settings(database_url=url, webhook_allow_private=True)
            db = Database(url)
            migrate(db.engine)
            with db.transaction() as session:
                store_id = stores.create_store(session, "bench").store_id
                for n in range(subscriptions):
                    webhooks.create_webhook(
                        session,
                        store_id,
                        WebhookInput(f"http://127.0.0.1:{port}/hook/{n}", None, ["order_created"]),
                    )
            for start in range(0, messages, 500):
                with db.transaction() as session:
                    for n in range(start, min(messages, start + 500)):
                        outbox.emit(session, store_id, "order_created", {**ORDER, "id": n})
            started = time.perf_counter()
            while process_outbox(db, [fan_out_message], 500):
                pass
            fan_out_seconds = time.perf_counter() - started
            total = messages * subscriptions

            task = DeliveryTask(
                settings, max_subscriptions=subscriptions, per_subscription=per_subscription
            )
            started = time.perf_counter()
            deadline = started + max_seconds
            while time.perf_counter() < deadline and task(db):
                pass
            elapsed = time.perf_counter() - started
            task.close()
            with db.read() as session:
                succeeded = session.execute(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.status == "succeeded")
                ).scalar_one()
            db.dispose()
    finally:
        receiver.terminate()
        receiver.join()
    return [
        f"{engine}: fan-out {total} deliveries in {fan_out_seconds:.2f} s "
        f"({total / fan_out_seconds:,.0f} deliveries queued/s)",
        f"{engine}: delivered {succeeded}/{total} in {elapsed:.2f} s "
        f"= {succeeded / elapsed:,.0f} deliveries/s "
        f"({subscriptions} webhooks, receiver counted {received.value})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=500, help="Outbox messages to queue.")
    parser.add_argument("--subscriptions", type=int, default=16, help="Webhooks receiving each.")
    parser.add_argument("--per-subscription", type=int, default=20, help="Claim batch size.")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="Stop after this long.")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        for line in bench_engine(
            engine, args.messages, args.subscriptions, args.max_seconds, args.per_subscription
        ):
            print(line, flush=True)


if __name__ == "__main__":
    main()
