"""The send queue: the ``messages`` table, worked by :class:`SendTask` (a periodic task of
the worker registry) with the lease protocol webhook deliveries use.

1. **Claim** (one transaction): the due messages (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)
   are checked — the contact still there, consent for the topic, the address not
   suppressed — and rendered the first time (the content is kept, so every try sends the
   same bytes under the same ``Message-ID``). Each gets a lease and an attempt row with no
   outcome yet. A message that may not be sent becomes ``skipped``, with the reason.
2. **Send**, outside any transaction: one SMTP session (or HTTP client) for the batch.
3. **Record** (one transaction): each attempt's outcome, where the lease is still ours.
   Sent; a temporary failure waits (``CARTWHEEL_QUEUE_BACKOFF_*``, as the worker's queues
   do) until ``CARTWHEEL_QUEUE_MAX_ATTEMPTS`` tries, then ``failed``; a permanent one is
   ``bounced`` and a refused recipient is suppressed.

**A crash** between claim and record leaves the attempt without an outcome; when the lease
has run out the message is claimed again, that attempt is marked ``interrupted`` and the
message is sent again under the same ``Message-ID``. So a message is never lost, and the
log never shows one send where two may have happened: a duplicate is possible only after an
``interrupted`` attempt, which the log shows (receivers deduplicate on ``Message-ID``).

Why not a handler on the outbox (``worker/queue.py``): its handlers run inside the pass's
write transaction, so an SMTP call would hold SQLite's write lock (and the ingest writer)
for the relay's round trips, and a crash after the relay accepted but before the commit
would send twice with one send in the log."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.contacts import repository as contact_rows
from cartwheel.db import Database
from cartwheel.messages import consent, defaults, language, links, rendering, tracking, variables
from cartwheel.messages import service as states
from cartwheel.messages.sms import SmsClient
from cartwheel.messages.smtp import PERMANENT, SENT, Email, Outcome, SmtpConnection, sender_address
from cartwheel.models import (
    Contact,
    Message,
    MessageAttempt,
    MessageSender,
    MessageTemplate,
    Store,
)
from cartwheel.models.base import utcnow
from cartwheel.worker.queue import RetryPolicy

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: A claimed message the batch ran out of time for: given back untried.
NOT_TRIED = "not_tried"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased message with everything needed to send it (no ORM object leaves the claim)."""

    message_id: int
    store_id: int
    channel: str
    to: str
    from_address: str
    reply_to: str | None
    subject: str | None
    html: str | None
    text: str
    message_id_header: str | None
    unsubscribe_url: str | None
    unsubscribe_mailto: str | None
    lease: str
    attempt_id: int


@dataclass(frozen=True, slots=True)
class Result:
    claimed: Claimed
    outcome: Outcome
    at: datetime


class SendTask:
    """The periodic task (worker/registry.py): each call claims up to
    ``CARTWHEEL_MESSAGES_BATCH_SIZE`` due messages, sends them and records the outcomes;
    returns how many it handled (0: idle)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        lease_seconds: float | None = None,
        stores: Collection[int] | None = None,
        background: bool = True,
        wait_seconds: float = 0.05,
    ) -> None:
        self.settings = settings
        #: Only these stores' messages (None: every store's).
        self.stores = stores
        #: A channel without a relay or provider is not worked: its messages wait, queued.
        self.channels = [
            channel
            for channel, configured in (
                ("email", settings.smtp_host),
                ("sms", settings.sms_account),
            )
            if configured
        ]
        self.clock = clock
        self.policy = RetryPolicy.from_settings(settings)
        self.urls = links.Urls(settings.public_url)
        self.batch_size = settings.messages_batch_size
        # Long enough for a whole batch at the relay's timeout would be hours; a batch that
        # outlives its lease only risks an honest "interrupted" and a resend.
        self.lease_seconds = lease_seconds or max(300.0, 4 * settings.smtp_timeout)
        self._sms: SmsClient | None = None
        self._pool = ThreadPoolExecutor(settings.smtp_connections, thread_name_prefix="smtp")
        self.background = background
        self.wait_seconds = wait_seconds
        self._runner = ThreadPoolExecutor(1, thread_name_prefix="messages")
        self._running: Future[int] | None = None

    def __call__(self, db: Database) -> int:
        """With ``background`` (the worker's way), a batch is sent and recorded on a thread
        of its own while the worker loop goes on with the other queues: a slow relay holds
        that thread, not event processing. Returns at least 1 while a batch is in flight."""
        if not self.background:
            return self.run(db)
        if self._running is not None:
            done, _ = wait([self._running], timeout=self.wait_seconds)
            if not done:
                return 1
            future, self._running = self._running, None
            try:
                return future.result() or 1
            except Exception:
                # Nothing is lost: the batch's leases run out and it is claimed again.
                log.exception("message batch failed")
                return 1
        batch = self.claim(db)
        if not batch:
            return 0
        self._running = self._runner.submit(self._deliver, db, batch)
        return len(batch)

    def run(self, db: Database) -> int:
        """Claim, send and record one batch, in this thread; how many messages it had."""
        batch = self.claim(db)
        if batch:
            self._deliver(db, batch)
        return len(batch)

    def _deliver(self, db: Database, batch: list[Claimed]) -> int:
        self.record(db, self.send(batch))
        return len(batch)

    # -- claim ---------------------------------------------------------------------------

    def claim(self, db: Database) -> list[Claimed]:
        if not self.channels:
            return []
        now = self.clock()
        due = _due(now) & Message.channel.in_(self.channels)
        if self.stores is not None:
            due &= Message.store_id.in_(self.stores)
        if db.is_sqlite:
            # An idle queue must not take the write lock the ingest writer waits for.
            with db.read() as session:
                if session.scalar(select(Message.id).where(due).limit(1)) is None:
                    return []
        lease = secrets.token_hex(16)
        with db.transaction() as session:
            query = select(Message).where(due).order_by(Message.id).limit(self.batch_size)
            if not db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            if not rows:
                return []
            return self._prepare(session, rows, lease, now)

    def _prepare(
        self, session: Session, rows: list[Message], lease: str, now: datetime
    ) -> list[Claimed]:
        _interrupt(session, [r.id for r in rows if r.status == states.SENDING], now)
        stores = {
            s.id: s
            for s in session.scalars(select(Store).where(Store.id.in_({r.store_id for r in rows})))
        }
        senders = {
            s.store_id: s
            for s in session.scalars(
                select(MessageSender).where(MessageSender.store_id.in_(stores))
            )
        }
        template_ids = {r.template_id for r in rows if r.template_id is not None}
        templates = (
            {
                t.id: t
                for t in session.scalars(
                    select(MessageTemplate).where(MessageTemplate.id.in_(template_ids))
                )
            }
            if template_ids
            else {}
        )
        contacts = _contacts(session, rows)
        views = variables.contact_views(session, [c for c in contacts.values() if c])
        ready_rows: list[tuple[Message, Contact | None, str]] = []
        for row in rows:
            contact = contacts.get(row.contact_id) if row.contact_id is not None else None
            if contact is not None and contact.id != row.contact_id:
                row.contact_id = contact.id  # merged since it was queued
            address, reason = _address(row, contact)
            if reason is not None:
                _skip(row, reason)
            else:
                ready_rows.append((row, contact, address))
        recorded = consent.recorded_consents(
            session, [c.id for _, c, _ in ready_rows if c is not None]
        )
        suppressed = self._suppressed(
            session, [(row.store_id, row.channel, to) for row, _, to in ready_rows]
        )
        cache: variables.Cache = {}
        # Only what is rendered for the first time needs its records.
        variables.preload(
            session, [(r.store_id, r.context) for r, _, _ in ready_rows if r.text is None], cache
        )
        drafts: list[Claimed] = []
        for row, contact, to in ready_rows:
            reason = None
            if contact is not None:
                key = (contact.id, row.channel, row.topic)
                reason = consent.decide(contact, row.channel, row.topic, recorded.get(key))
            why = suppressed.get((row.store_id, row.channel, to))
            if reason is None and why is not None:
                reason = f"The address is suppressed ({why})."
            if reason is not None:
                row.to_address = to
                _skip(row, reason)
                continue
            try:
                drafts.append(
                    self._content(
                        session,
                        row,
                        to,
                        stores[row.store_id],
                        contact,
                        views.get(contact.id) if contact else None,
                        templates,
                        senders.get(row.store_id),
                        cache,
                        lease,
                    )
                )
            except language.RenderFailed as exc:
                row.to_address = to
                row.status = states.FAILED
                row.last_error = str(exc)[:1000]
                row.next_attempt_at = None
        if not drafts:
            return []
        return self._lease(session, drafts, lease, now)

    def _lease(
        self, session: Session, drafts: list[Claimed], lease: str, now: datetime
    ) -> list[Claimed]:
        """Keep the drafts' content and lease them, and open an attempt for each: one
        statement for the messages and one for the attempts, whatever the batch's size."""
        messages: Table = Message.__table__  # type: ignore[assignment]
        session.execute(
            update(messages)
            .where(messages.c.id == bindparam("p_id"))
            .values(
                to_address=bindparam("p_to"),
                from_address=bindparam("p_from"),
                subject=bindparam("p_subject"),
                html=bindparam("p_html"),
                text=bindparam("p_text"),
                message_id_header=bindparam("p_header"),
                status=states.SENDING,
                lease=lease,
                claimed_until=now + timedelta(seconds=self.lease_seconds),
                attempts=messages.c.attempts + 1,
            ),
            [
                {
                    "p_id": d.message_id,
                    "p_to": d.to,
                    "p_from": d.from_address,
                    "p_subject": d.subject,
                    "p_html": d.html,
                    "p_text": d.text,
                    "p_header": d.message_id_header,
                }
                for d in drafts
            ],
        )
        attempt_ids = session.scalars(
            insert(MessageAttempt).returning(MessageAttempt.id, sort_by_parameter_order=True),
            [
                {
                    "store_id": d.store_id,
                    "message_id": d.message_id,
                    "lease": lease,
                    "started_at": now,
                }
                for d in drafts
            ],
        ).all()
        return [
            replace(draft, attempt_id=attempt_id)
            for draft, attempt_id in zip(drafts, attempt_ids, strict=True)
        ]

    @staticmethod
    def _suppressed(
        session: Session, to: list[tuple[int, str, str]]
    ) -> dict[tuple[int, str, str], str]:
        """Which of these (store, channel, address) are suppressed, and why."""
        wanted: dict[tuple[int, str], set[str]] = {}
        for store_id, channel, address in to:
            wanted.setdefault((store_id, channel), set()).add(address)
        found: dict[tuple[int, str, str], str] = {}
        for (store_id, channel), addresses in wanted.items():
            for address, reason in consent.suppressed(
                session, store_id, channel, addresses
            ).items():
                found[(store_id, channel, address)] = reason
        return found

    def _content(
        self,
        session: Session,
        row: Message,
        to: str,
        store: Store,
        contact: Contact | None,
        contact_view: Any,
        templates: dict[int, MessageTemplate],
        sender: MessageSender | None,
        cache: variables.Cache,
        lease: str,
    ) -> Claimed:
        """The message's claim (its attempt id still to come): rendered the first time,
        else what was rendered then (every try sends the same)."""
        template = templates.get(row.template_id) if row.template_id is not None else None
        unsubscribe_url = unsubscribe_mailto = None
        if contact is not None and row.topic == "marketing":
            token = links.unsubscribe_token(store.id, contact.id, row.channel, row.topic, row.id)
            unsubscribe_url = self.urls.unsubscribe(token)
            mail_from = sender_email(self.settings, sender, template)
            unsubscribe_mailto = f"mailto:{mail_from}?subject=unsubscribe" if mail_from else None
        subject, html, text = row.subject, row.html, row.text
        from_address, header = row.from_address, row.message_id_header
        if text is None:
            source = self._source(row, template)
            values = variables.build(
                session, variables.Records(store, contact, row.context), contact_view, cache
            )
            values["unsubscribe_url"] = unsubscribe_url or ""
            if "reset_token" in row.context:
                values["reset_url"] = self.urls.password_reset(row.context["reset_token"])
            result = rendering.render(source, values)
            html = result.html
            if html is not None and row.campaign_id is not None:
                html = tracking.track(html, store.id, row.id, self.urls, unsubscribe_url or "")
            subject, text = result.subject, result.text
            if row.channel == "email":
                from_address = from_header(self.settings, sender, template)
                domain = self.urls.base.split("//", 1)[-1].split("/", 1)[0].split(":")[0]
                header = f"<m{row.id}.s{store.id}.{secrets.token_hex(6)}@{domain or 'cartwheel'}>"
            else:
                from_address = (
                    sender.sms_from if sender and sender.sms_from else self.settings.sms_from
                )
        reply_to = (
            template.reply_to
            if template and template.reply_to
            else sender.reply_to
            if sender
            else None
        )
        return Claimed(
            row.id,
            row.store_id,
            row.channel,
            to,
            from_address or "",
            reply_to,
            subject,
            html,
            text or "",
            header,
            unsubscribe_url,
            unsubscribe_mailto,
            lease,
            0,
        )

    def _source(self, row: Message, template: MessageTemplate | None) -> rendering.Source:
        if template is not None:
            return rendering.Source(
                template.channel, template.subject, template.body, template.text
            )
        default = defaults.DEFAULTS.get(row.template_key or "")
        if default is None:
            raise language.RenderFailed("The message's template was deleted.")
        return rendering.Source(default.channel, default.subject, default.body, None)

    # -- send ----------------------------------------------------------------------------

    def send(self, batch: list[Claimed]) -> list[Result]:
        """Send a batch over up to ``CARTWHEEL_SMTP_CONNECTIONS`` sessions at once, each
        taking every n-th message; the results come back in the batch's order."""
        lanes = min(self.settings.smtp_connections, len(batch))
        if lanes <= 1:
            return self._send_lane(batch)
        shares = [batch[lane::lanes] for lane in range(lanes)]
        done = list(self._pool.map(self._send_lane, shares))
        results: list[Result] = []
        for n in range(len(batch)):
            results.append(done[n % lanes][n // lanes])
        return results

    def _send_lane(self, batch: list[Claimed]) -> list[Result]:
        results: list[Result] = []
        # No send starts that could still be under way when the lease runs out (another
        # sender would then send the message again): the rest goes back to the queue.
        stop_at = time.monotonic() + self.lease_seconds - 2 * self.settings.smtp_timeout
        with SmtpConnection(self.settings) as smtp:
            for claimed in batch:
                if time.monotonic() >= stop_at:
                    results.append(Result(claimed, Outcome(NOT_TRIED), self.clock()))
                    continue
                if claimed.channel == "email":
                    outcome = smtp.send(
                        Email(
                            claimed.from_address,
                            claimed.to,
                            claimed.subject or "",
                            claimed.html or "",
                            claimed.text,
                            claimed.message_id_header or "",
                            claimed.reply_to,
                            claimed.unsubscribe_url,
                            claimed.unsubscribe_mailto,
                        )
                    )
                else:
                    outcome = self.sms.send(claimed.to, claimed.from_address, claimed.text)
                log.info(
                    "message attempt",
                    extra={
                        "message_id": claimed.message_id,
                        "store_id": claimed.store_id,
                        "channel": claimed.channel,
                        "outcome": outcome.outcome,
                        "code": outcome.code,
                    },
                )
                results.append(Result(claimed, outcome, self.clock()))
        return results

    @property
    def sms(self) -> SmsClient:
        if self._sms is None:
            self._sms = SmsClient(self.settings)
        return self._sms

    # -- record --------------------------------------------------------------------------

    def record(self, db: Database, results: list[Result]) -> None:
        """Every result of a batch in one transaction. Sends that went through under a
        lease still ours (nearly all) are written with two statements for the batch; the
        rest one by one (:meth:`_record_one`)."""
        if not results:
            return
        with db.transaction() as session:
            query = select(Message.id, Message.lease).where(
                Message.id.in_([r.claimed.message_id for r in results])
            )
            if not db.is_sqlite:
                query = query.with_for_update()
            leases: dict[int, str | None] = {id_: lease for id_, lease in session.execute(query)}
            sent: list[Result] = []
            rest: list[Result] = []
            for result in results:
                message_id = result.claimed.message_id
                if message_id not in leases:
                    continue  # the store was deleted meanwhile
                if result.outcome.outcome == SENT and leases[message_id] == result.claimed.lease:
                    sent.append(result)
                else:
                    rest.append(result)
            if sent:
                self._record_sent(session, sent)
            if rest:
                self._record_rest(session, rest)

    @staticmethod
    def _record_sent(session: Session, results: list[Result]) -> None:
        # Core statements: the ORM's bulk update by primary key cannot also test the lease.
        attempts: Table = MessageAttempt.__table__  # type: ignore[assignment]
        messages: Table = Message.__table__  # type: ignore[assignment]
        session.execute(
            update(attempts)
            .where(attempts.c.id == bindparam("attempt_id"))
            .values(
                finished_at=bindparam("at"),
                outcome=SENT,
                code=bindparam("code"),
                error=bindparam("error"),
            ),
            [
                {
                    "attempt_id": r.claimed.attempt_id,
                    "at": r.at,
                    "code": r.outcome.code,
                    "error": r.outcome.error,
                }
                for r in results
            ],
        )
        session.execute(
            update(messages)
            .where(
                messages.c.id == bindparam("message_id"),
                messages.c.lease == bindparam("our_lease"),
            )
            .values(
                status=states.SENT,
                sent_at=bindparam("at"),
                lease=None,
                claimed_until=None,
                next_attempt_at=None,
                last_error=bindparam("error"),
                provider_id=bindparam("provider_id"),
            ),
            [
                {
                    "message_id": r.claimed.message_id,
                    "our_lease": r.claimed.lease,
                    "at": r.at,
                    "error": r.outcome.error,
                    "provider_id": r.outcome.provider_id,
                }
                for r in results
            ],
        )

    def _record_rest(self, session: Session, results: list[Result]) -> None:
        rows = {
            m.id: m
            for m in session.scalars(
                select(Message).where(Message.id.in_([r.claimed.message_id for r in results]))
            )
        }
        attempts = {
            a.id: a
            for a in session.scalars(
                select(MessageAttempt).where(
                    MessageAttempt.id.in_([r.claimed.attempt_id for r in results])
                )
            )
        }
        for result in results:
            row = rows.get(result.claimed.message_id)
            attempt = attempts.get(result.claimed.attempt_id)
            if row is None or attempt is None:
                continue  # the store was deleted meanwhile
            self._record_one(session, row, attempt, result)

    def _record_one(
        self, session: Session, row: Message, attempt: MessageAttempt, result: Result
    ) -> None:
        outcome, now = result.outcome, result.at
        if outcome.outcome == NOT_TRIED:
            if row.lease == result.claimed.lease:
                session.delete(attempt)
                row.attempts -= 1
                row.status = states.QUEUED
                row.lease = None
                row.claimed_until = None
                row.next_attempt_at = now
            return
        attempt.finished_at = now
        attempt.outcome = outcome.outcome
        attempt.code = outcome.code
        attempt.error = outcome.error
        if row.lease != result.claimed.lease:
            # The lease ran out and another sender has the message: it decides.
            log.warning("message lease lost", extra={"message_id": row.id})
            return
        row.lease = None
        row.claimed_until = None
        row.last_error = outcome.error
        if outcome.outcome == SENT:
            row.status = states.SENT
            row.sent_at = now
            row.next_attempt_at = None
            row.provider_id = outcome.provider_id
            return
        if outcome.outcome == PERMANENT:
            row.status = states.BOUNCED
            row.next_attempt_at = None
            if outcome.bad_recipient and row.to_address:
                reason = consent.SMS_STOP if row.channel == "sms" else consent.HARD_BOUNCE
                consent.suppress(
                    session, row.store_id, row.channel, row.to_address, reason, outcome.error
                )
            return
        delay = self.policy.delay(row.attempts)
        if delay is None:
            row.status = states.FAILED
            row.next_attempt_at = None
            log.error("message failed for the last time", extra={"message_id": row.id})
            return
        row.status = states.QUEUED
        row.next_attempt_at = now + timedelta(seconds=delay)

    def close(self) -> None:
        """Finish the batch in flight, then drop the threads and connections."""
        self._runner.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        if self._sms is not None:
            self._sms.close()


def _contacts(session: Session, rows: list[Message]) -> dict[int, Contact | None]:
    """The messages' contacts in one query; a contact merged away resolves to the one it
    was merged into, a deleted or another store's one to None."""
    ids = {r.contact_id for r in rows if r.contact_id is not None}
    if not ids:
        return {}
    loaded = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    found: dict[int, Contact | None] = {}
    for row in rows:
        if row.contact_id is None or row.contact_id in found:
            continue
        contact = loaded.get(row.contact_id)
        if contact is not None and contact.merged_into_id is not None:
            contact = contact_rows.get(session, row.store_id, contact.id)
        ok = contact is not None and contact.store_id == row.store_id
        found[row.contact_id] = contact if ok and contact and contact.deleted_at is None else None
    return found


def _address(row: Message, contact: Contact | None) -> tuple[str, str | None]:
    """The message's address (given when queued, else its contact's), or why it has none."""
    if row.contact_id is not None and contact is None:
        return "", "The contact no longer exists."
    if row.to_address is not None:
        return row.to_address, None
    if contact is None:
        return "", "The message has no recipient."
    raw = contact.email if row.channel == "email" else contact.phone
    address = consent.normalize_address(row.channel, raw) if raw else None
    if address is None:
        what = "email address" if row.channel == "email" else "phone number"
        return "", f"The contact has no {what}."
    return address, None


def _due(now: datetime) -> Any:
    return (
        Message.status.in_((states.QUEUED, states.SENDING))
        & (Message.next_attempt_at <= now)
        & or_(Message.claimed_until.is_(None), Message.claimed_until < now)
    )


def _interrupt(session: Session, message_ids: list[int], now: datetime) -> None:
    """A message still ``sending`` whose lease ran out: its open attempt's outcome is
    unknown (the sender stopped mid-try)."""
    if not message_ids:
        return
    session.execute(
        update(MessageAttempt)
        .where(MessageAttempt.message_id.in_(message_ids), MessageAttempt.outcome.is_(None))
        .values(
            outcome="interrupted",
            finished_at=now,
            error="The sender stopped during this try; it may or may not have left.",
        )
    )


def _skip(row: Message, reason: str) -> None:
    row.status = states.SKIPPED
    row.last_error = reason
    row.next_attempt_at = None


def sender_email(
    settings: Settings, sender: MessageSender | None, template: MessageTemplate | None
) -> str:
    if template is not None and template.from_email:
        return template.from_email
    if sender is not None and sender.from_email:
        return sender.from_email
    return parseaddr(settings.mail_from)[1]


def from_header(
    settings: Settings, sender: MessageSender | None, template: MessageTemplate | None
) -> str:
    if template is not None and template.from_email:
        return sender_address(template.from_email, template.from_name)
    if sender is not None and sender.from_email:
        return sender_address(sender.from_email, sender.from_name)
    return settings.mail_from
