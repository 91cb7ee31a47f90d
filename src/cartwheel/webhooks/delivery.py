"""The delivery queue: claim due deliveries, send them outside any transaction, then record
the attempts in a new transaction.

- **Claim as a lease.** A short transaction picks the queue head of each active subscription
  that is due (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single writer does the same
  job), plus the deliveries right behind it, and stamps them with ``claimed_until`` and a
  lease token, then commits. No HTTP call ever runs while a transaction is open.
- **Ordering.** Only a subscription's head is ever sent; the ones behind it in a batch go
  one after the other, and the batch stops at the first failure. Message N+1 therefore never
  leaves before N succeeded or was given up.
- **At least once.** A batch's results are recorded together, and only where the lease is
  still ours. A worker that dies mid-batch records nothing; its lease runs out and the rows
  are claimed and sent again (under the same ``webhook-id``, for receivers to deduplicate).
- **Retries.** ``settings.webhook_retry_schedule`` (seconds, with ±20% jitter), never sooner
  than the receiver's ``Retry-After``. When the last retry fails, or the receiver answers
  410 Gone, the delivery is given up and the subscription disabled until the merchant
  resumes it.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from cartwheel.models.base import utcnow
from cartwheel.webhooks import metrics, repository, signing
from cartwheel.webhooks.client import SendResult, WebhookClient
from cartwheel.webhooks.guard import loggable_target

log = logging.getLogger(__name__)

#: The longest ``Retry-After`` honoured; a receiver cannot park a delivery for longer.
MAX_RETRY_AFTER = 24 * 3600.0
EVENT_HEADER = "Cartwheel-Event"

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased delivery with everything needed to send it (no ORM object crosses the
    transaction boundary)."""

    delivery_id: int
    store_id: int
    subscription_id: int
    target: str
    secret: str
    message_id: str
    event_type: str
    body: str
    attempts: int
    lease: str
    claimed_until: datetime


def parse_schedule(text: str) -> list[float]:
    """``"5,30,120"`` → ``[5.0, 30.0, 120.0]``: the wait before each retry."""
    return [float(part) for part in text.replace(" ", "").split(",") if part]


def retry_delay(
    schedule: list[float], attempts: int, retry_after: float | None, rng: random.Random
) -> float | None:
    """Seconds to wait after the ``attempts``-th failed attempt; None once retries are spent."""
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * rng.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def claim(
    db: Database,
    now: datetime,
    *,
    max_subscriptions: int,
    per_subscription: int,
    lease_seconds: float,
) -> list[list[Claimed]]:
    """Lease up to ``per_subscription`` due deliveries for each of up to
    ``max_subscriptions`` subscriptions; one list per subscription, in send order."""
    skip_locked = not db.is_sqlite
    if not skip_locked:
        # SQLite has one writer: look in a read transaction first, so an idle queue never
        # takes the write lock the ingest writer is waiting for.
        with db.read() as session:
            if not repository.due_heads(session, now, 1, skip_locked=False):
                return []
    token = secrets.token_hex(16)
    until = now + timedelta(seconds=lease_seconds)
    batches: list[list[Claimed]] = []
    with db.transaction() as session:
        for head, target, secret in repository.due_heads(
            session, now, max_subscriptions, skip_locked
        ):
            batch = [head]
            for follower in repository.followers(session, head, per_subscription - 1):
                # Defensive: a follower with a later retry time of its own ends the batch.
                if follower.next_attempt_at is not None and follower.next_attempt_at > now:
                    break
                batch.append(follower)
            leased = repository.lease(session, [d.id for d in batch], until, token, now)
            # Send only an unbroken run from the head: a row another worker changed in the
            # meantime ends the batch, so no message ever overtakes an earlier one.
            cut = next((i for i, d in enumerate(batch) if d.id not in leased), len(batch))
            repository.release(session, [d.id for d in batch[cut:] if d.id in leased], token)
            batch = batch[:cut]
            if not batch:
                continue
            batches.append(
                [
                    Claimed(
                        d.id,
                        d.store_id,
                        d.subscription_id,
                        target,
                        secret,
                        d.message_id,
                        d.event_type,
                        d.body,
                        d.attempts,
                        token,
                        until,
                    )
                    for d in batch
                ]
            )
    return batches


@dataclass(frozen=True, slots=True)
class Sent:
    """One attempt, made: what was sent, what came back, and when."""

    claimed: Claimed
    result: SendResult
    at: datetime


def record(
    db: Database,
    sent: list[Sent],
    unsent: list[Claimed],
    schedule: list[float],
    rng: random.Random,
) -> None:
    """Store a batch's attempts and their consequences, and give back the deliveries it did
    not get to, in one transaction (one commit per batch, not per attempt)."""
    with db.transaction() as session:
        if unsent:
            repository.release(session, [c.delivery_id for c in unsent], unsent[0].lease)
        if not sent:
            return
        rows = repository.locked_deliveries(session, [s.claimed.delivery_id for s in sent])
        for attempt in sent:
            delivery = rows.get(attempt.claimed.delivery_id)
            if delivery is None:
                continue  # the subscription was deleted meanwhile
            _record_one(session, delivery, attempt, schedule, rng)


def _record_one(
    session: Session,
    delivery: WebhookDelivery,
    sent: Sent,
    schedule: list[float],
    rng: random.Random,
) -> None:
    claimed, result, now = sent.claimed, sent.result, sent.at
    session.add(
        WebhookAttempt(
            store_id=claimed.store_id,
            delivery_id=claimed.delivery_id,
            attempted_at=now,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
            response_body=result.response_body,
            succeeded=result.succeeded,
        )
    )
    if delivery.lease != claimed.lease:
        # The lease ran out and another worker owns the row now: it decides.
        log.warning("webhook lease lost", extra={"delivery_id": claimed.delivery_id})
        return
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = result.status_code
    delivery.last_latency_ms = result.latency_ms
    delivery.last_error = result.error
    delivery.claimed_until = None
    delivery.lease = None
    if result.succeeded:
        delivery.status = repository.SUCCEEDED
        delivery.next_attempt_at = None
        delivery.completed_at = now
        return
    gone = result.status_code == 410
    delay = None if gone else retry_delay(schedule, delivery.attempts, result.retry_after, rng)
    if delay is not None:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        return
    delivery.status = repository.FAILED
    delivery.next_attempt_at = None
    delivery.completed_at = now
    reason = (
        "The target answered 410 Gone."
        if gone
        else f"Delivery {delivery.id} failed {delivery.attempts} times; "
        f"the last error was: {result.error}"
    )
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == claimed.subscription_id)
        .values(status=repository.DISABLED, disabled_reason=reason[:1000], updated_at=now)
    )
    metrics.DISABLED.inc()
    log.warning(
        "webhook subscription disabled",
        extra={"subscription_id": claimed.subscription_id, "delivery_id": delivery.id},
    )


def _log_attempt(claimed: Claimed, result: SendResult) -> None:
    extra = {
        "delivery_id": claimed.delivery_id,
        "subscription_id": claimed.subscription_id,
        "store_id": claimed.store_id,
        "target": loggable_target(claimed.target),
    }
    if result.refused:
        log.warning("webhook target refused", extra={**extra, "reason": result.error})
        return
    log.info(
        "webhook attempt",
        extra={
            **extra,
            "status_code": result.status_code,
            "latency_ms": result.latency_ms,
            "succeeded": result.succeeded,
        },
    )


class DeliveryTask:
    """The periodic task (worker/registry.py). Each call hands newly due subscriptions'
    batches to a pool of sending threads (one batch per subscription at a time, its
    deliveries in order), waits briefly for batches in flight, and returns how many attempts
    finished — at least 1 while any batch is still in flight, 0 when idle.

    Sending never blocks the worker loop for long: a receiver that hangs until the timeout
    holds one sending thread, not the event processing that shares the loop.

    ``clock`` is injectable so tests move time instead of sleeping through backoff."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        client: WebhookClient | None = None,
        rng: random.Random | None = None,
        max_subscriptions: int = 16,
        per_subscription: int = 20,
        batch_seconds: float = 30.0,
        wait_seconds: float = 0.05,
    ) -> None:
        self.clock = clock
        self.client = client or WebhookClient(
            timeout_seconds=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private,
        )
        self.schedule = parse_schedule(settings.webhook_retry_schedule)
        self.rng = rng or random.Random()
        self.max_subscriptions = max_subscriptions
        self.per_subscription = per_subscription
        # Stop starting new sends after this long; the lease covers that plus one slow send.
        self.batch_seconds = batch_seconds
        self.lease_seconds = batch_seconds + 3 * settings.webhook_timeout_seconds + 30
        self.wait_seconds = wait_seconds
        self._pool = ThreadPoolExecutor(max_subscriptions, thread_name_prefix="webhooks")
        self._running: set[Future[int]] = set()

    def __call__(self, db: Database) -> int:
        free = self.max_subscriptions - len(self._running)
        if free > 0:
            for batch in self.claim(db, free):
                self._running.add(self._pool.submit(self.send_batch, db, batch))
        if not self._running:
            return 0
        done, _ = wait(self._running, timeout=self.wait_seconds, return_when=FIRST_COMPLETED)
        finished = 0
        for future in done:
            self._running.discard(future)
            try:
                finished += future.result()
            except Exception:
                # Nothing is lost: the batch's leases run out and it is claimed again.
                log.exception("webhook batch failed")
        return finished + (1 if self._running else 0)

    def claim(self, db: Database, limit: int | None = None) -> list[list[Claimed]]:
        return claim(
            db,
            self.clock(),
            max_subscriptions=limit or self.max_subscriptions,
            per_subscription=self.per_subscription,
            lease_seconds=self.lease_seconds,
        )

    def send_batch(self, db: Database, batch: list[Claimed]) -> int:
        """Send a subscription's claimed deliveries in order, stopping at the first failure,
        then record them. A crash before recording loses nothing: the lease runs out and
        they are sent again (at least once; receivers deduplicate on ``webhook-id``)."""
        deadline = time.monotonic() + self.batch_seconds
        sent: list[Sent] = []
        for claimed in batch:
            if time.monotonic() > deadline or self.clock() >= claimed.claimed_until:
                break
            result = self.send(claimed)
            _log_attempt(claimed, result)
            metrics.ATTEMPTS.labels("succeeded" if result.succeeded else "failed").inc()
            metrics.ATTEMPT_SECONDS.observe(result.latency_ms / 1000)
            sent.append(Sent(claimed, result, self.clock()))
            if not result.succeeded:
                break
        record(db, sent, batch[len(sent) :], self.schedule, self.rng)
        return len(sent)

    def send(self, claimed: Claimed) -> SendResult:
        body = claimed.body.encode()
        # The attempt's own time, as the standard asks (receivers check it against theirs).
        timestamp = int(time.time())
        headers = signing.headers(claimed.secret, claimed.message_id, timestamp, body)
        headers[EVENT_HEADER] = claimed.event_type
        return self.client.post(claimed.target, body, headers)

    def close(self) -> None:
        """Finish the batches in flight, then drop the threads and connections."""
        self._pool.shutdown(wait=True)
        self.client.close()
