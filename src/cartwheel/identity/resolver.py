"""Identity resolution and storage for one batch of events, in one transaction.

The batch is resolved in memory after a constant number of reads (dedup keys, identifiers,
contacts), then written with one multi-row statement per table. A batch of 1,000 events
costs the same handful of round trips as a batch of one; that, with the writer's group
commit, is what keeps the ingest path off the one-fsync-per-event wall.

The identity rules (see docs/identity.md):

* hints are tried in the adapter's priority order; the first that names a contact wins;
* a phone never pulls an event onto a contact that has a *different* email than the event's
  (two known people can share a phone): a new contact is made instead;
* every other identifier of the event is then attached to the resolved contact — unless it
  already belongs to another contact. If that contact has no email of its own (the same person
  seen before only by phone or external id) it is merged into the resolved one; if it has a
  different email the identifier stays where it is and the conflict is recorded.

Events resolve with :attr:`Policy.MERGE`. The other paths that find or create a person (the
store data API, forms, bookings, members) use the same resolver through :meth:`person` with
their own policy for an identifier that belongs to someone else.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, tuple_, update

from cartwheel.exceptions import AppError, Conflict, NotFound
from cartwheel.identity import owned
from cartwheel.ingest.bulk import BulkInsert
from cartwheel.ingest.canonical import (
    IDENTIFYING_KINDS,
    PROFILE_FIELDS,
    STORED_KINDS,
    CanonicalEvent,
    Identifier,
    IdentityHints,
    IngestResult,
    ProfilePatch,
)
from cartwheel.models import Contact, ContactIdentifier, ContactMerge, Event, IdentityConflict
from cartwheel.models.base import uuid7
from cartwheel.outbox import CONTACT_CREATED, CONTACT_MERGED, CONTACT_PATCHED, emit_many

EMAIL_TAKEN = "A contact with this email already exists."


class Policy(enum.Enum):
    """What to do when an identifier the caller ties to a contact belongs to another one."""

    #: Events: merge that contact in when it has no email (or the same one); otherwise
    #: leave the identifier with it and record a conflict.
    MERGE = "merge"
    #: The store data API: an email of another contact is a 409 (``EMAIL_TAKEN``); any
    #: other identifier (a shared phone) stays with its owner, recorded as a conflict.
    REFUSE = "refuse"
    #: Never merge: the identifier stays with its owner and a conflict is recorded.
    RECORD = "record"


@dataclass(frozen=True, slots=True)
class Person:
    """The contact :meth:`BatchResolver.person` found or created."""

    id: int
    uuid: uuid.UUID
    created: bool


_CONTACT_COLUMNS = ("email", "phone", *PROFILE_FIELDS, "custom_fields", "is_contact")
_EVENT_COLUMNS = (
    "id",
    "store_id",
    "contact_id",
    "name",
    "category",
    "action",
    "occurred_at",
    "received_at",
    "source",
    "properties",
    "property_types",
    "extra",
    "entity",
    "value",
    "currency",
    "dedup_key",
    "silent",
    "attempts",
)


@dataclass(eq=False, slots=True)
class _ContactState:
    """A contact as this batch sees it; ``id`` is None until a new one is inserted."""

    store_id: int
    uuid: uuid.UUID
    id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    is_new: bool = False
    dirty: bool = False
    merged_into: _ContactState | None = None

    @property
    def email(self) -> str | None:
        value: str | None = self.values.get("email")
        return value

    def final(self) -> _ContactState:
        state = self
        while state.merged_into is not None:
            state = state.merged_into
        return state


@dataclass(slots=True)
class _Merge:
    source: _ContactState
    target: _ContactState
    reason: str


@dataclass(slots=True)
class _PendingEvent:
    event: CanonicalEvent
    event_id: uuid.UUID
    contact: _ContactState


_Key = tuple[int, str, str]  # (store_id, kind, value)


class BatchResolver:
    """Resolves and stores one batch. Use once: ``BatchResolver(conn, now).run(events)``,
    or ``BatchResolver(conn, now, Policy.REFUSE).person(...)`` for one person without an
    event."""

    def __init__(self, conn: Connection, now: datetime, policy: Policy = Policy.MERGE) -> None:
        self.conn = conn
        self.now = now
        self.policy = policy
        self._bulk = BulkInsert(conn)
        self._owners: dict[_Key, _ContactState] = {}
        self._by_id: dict[int, _ContactState] = {}
        self._by_uuid: dict[tuple[int, uuid.UUID], _ContactState] = {}
        self._new_identifiers: list[tuple[_Key, _ContactState]] = []
        self._new_contacts: list[_ContactState] = []
        self._merges: list[_Merge] = []
        self._conflicts: list[tuple[_ContactState, _ContactState, str, str]] = []
        self._pending: list[_PendingEvent] = []

    # -- public -------------------------------------------------------------------------

    def run(self, events: list[CanonicalEvent]) -> list[IngestResult | AppError]:
        seen_keys = self._load_dedup_keys(events)
        self._load_contacts([(e.store_id, e.identity) for e in events])
        # A _PendingEvent in a tuple is a repeat, within this batch, of that event's dedup key.
        results: list[IngestResult | AppError | _PendingEvent | tuple[_PendingEvent]] = []
        batch_keys: dict[tuple[int, str], _PendingEvent] = {}
        for event in events:
            if event.dedup_key is not None and not event.test:
                key = (event.store_id, event.dedup_key)
                if key in seen_keys:
                    results.append(seen_keys[key])
                    continue
                if key in batch_keys:
                    results.append((batch_keys[key],))
                    continue
            try:
                outcome = self._resolve(event)
            except AppError as exc:
                results.append(exc)
                continue
            if isinstance(outcome, _PendingEvent) and event.dedup_key is not None:
                batch_keys[(event.store_id, event.dedup_key)] = outcome
            results.append(outcome)
        self._flush()
        return [self._result(item) for item in results]

    def person(
        self,
        store_id: int,
        hints: IdentityHints,
        *,
        source: str,
        profile: ProfilePatch | None = None,
    ) -> Person:
        """Find the person ``hints`` name (in their priority order) or create one, attach
        the other identifiers under this resolver's policy, and store it; no event."""
        self._load_contacts([(store_id, hints)])
        contact = self._find_or_create(store_id, hints, profile, source)
        self._flush()
        contact = contact.final()
        assert contact.id is not None
        return Person(id=contact.id, uuid=contact.uuid, created=contact.is_new)

    # -- loading ------------------------------------------------------------------------

    def _load_dedup_keys(self, events: list[CanonicalEvent]) -> dict[tuple[int, str], IngestResult]:
        wanted = {(e.store_id, e.dedup_key) for e in events if e.dedup_key and not e.test}
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(Event.store_id, Event.dedup_key, Event.id, Event.contact_id, Event.received_at)
            .where(Event.store_id.in_({s for s, _ in wanted}))
            .where(Event.dedup_key.in_({k for _, k in wanted}))
        ).all()
        contact_uuids = self._contact_uuids({r.contact_id for r in rows if r.contact_id})
        found: dict[tuple[int, str], IngestResult] = {}
        for row in rows:
            key = (row.store_id, row.dedup_key)
            if key in wanted:
                found[key] = IngestResult(
                    event_id=row.id,
                    contact_id=row.contact_id,
                    contact_uuid=contact_uuids.get(row.contact_id),
                    received_at=row.received_at,
                    duplicate=True,
                )
        return found

    def _contact_uuids(self, ids: set[int]) -> dict[int, uuid.UUID]:
        if not ids:
            return {}
        rows = self.conn.execute(select(Contact.id, Contact.uuid).where(Contact.id.in_(ids)))
        return {row.id: row.uuid for row in rows}

    def _load_contacts(self, identities: list[tuple[int, IdentityHints]]) -> None:
        stored: set[_Key] = set()
        by_id: set[tuple[int, int]] = set()
        by_uuid: set[tuple[int, uuid.UUID]] = set()
        for store_id, identity in identities:
            for ident in (*identity.identifiers, *identity.joins):
                if ident.kind in STORED_KINDS:
                    stored.add((store_id, ident.kind, ident.value))
                elif ident.kind == "contact_id" and ident.value.isdigit():
                    by_id.add((store_id, int(ident.value)))
                elif ident.kind == "contact_uuid":
                    parsed = _parse_uuid(ident.value)
                    if parsed is not None:
                        by_uuid.add((store_id, parsed))
        contact_ids: set[int] = set()
        identifier_rows: list[Any] = []
        if stored:
            identifier_rows = list(
                self.conn.execute(
                    select(
                        ContactIdentifier.store_id,
                        ContactIdentifier.kind,
                        ContactIdentifier.value,
                        ContactIdentifier.contact_id,
                    )
                    .where(ContactIdentifier.store_id.in_({k[0] for k in stored}))
                    .where(ContactIdentifier.value.in_({k[2] for k in stored}))
                )
            )
            identifier_rows = [
                r for r in identifier_rows if (r.store_id, r.kind, r.value) in stored
            ]
            contact_ids.update(r.contact_id for r in identifier_rows)
        conditions = []
        if by_id:
            conditions.append(tuple_(Contact.store_id, Contact.id).in_(list(by_id)))
        if by_uuid:
            conditions.append(tuple_(Contact.store_id, Contact.uuid).in_(list(by_uuid)))
        self._fetch_contacts(contact_ids, conditions)
        for row in identifier_rows:
            state = self._by_id.get(row.contact_id)
            if state is not None:
                self._owners[(row.store_id, row.kind, row.value)] = state

    def _fetch_contacts(self, ids: set[int], extra_conditions: list[Any]) -> None:
        """Load contacts by id (and by the extra conditions), following merge chains."""
        conditions = list(extra_conditions)
        merged: dict[int, int] = {}
        while ids or conditions:
            if ids:
                conditions.append(Contact.id.in_(ids))
            rows = self.conn.execute(select(Contact).where(or_(*conditions))).mappings().all()
            ids, conditions = set(), []
            for row in rows:
                if row["deleted_at"] is not None or row["id"] in self._by_id:
                    continue  # a deleted contact resolves nothing
                state = self._state_from_row(row)
                self._by_id[row["id"]] = state
                self._by_uuid[(row["store_id"], row["uuid"])] = state
                target = row["merged_into_id"]
                if target is not None:
                    merged[row["id"]] = target
                    if target not in self._by_id:
                        ids.add(target)
        # Link merged contacts once their targets are loaded.
        for source, target in merged.items():
            if target in self._by_id:
                self._by_id[source].merged_into = self._by_id[target]

    @staticmethod
    def _state_from_row(row: Any) -> _ContactState:
        state = _ContactState(
            store_id=row["store_id"],
            uuid=row["uuid"],
            id=row["id"],
            values={column: row[column] for column in _CONTACT_COLUMNS},
            source=row["source"],
        )
        state.values["custom_fields"] = dict(row["custom_fields"] or {})
        return state

    # -- resolution ---------------------------------------------------------------------

    def _lookup(self, store_id: int, ident: Identifier) -> _ContactState | None:
        state: _ContactState | None
        if ident.kind == "contact_id":
            state = self._by_id.get(int(ident.value)) if ident.value.isdigit() else None
        elif ident.kind == "contact_uuid":
            parsed = _parse_uuid(ident.value)
            state = self._by_uuid.get((store_id, parsed)) if parsed else None
        else:
            state = self._owners.get((store_id, ident.kind, ident.value))
        if state is None or state.store_id != store_id:
            return None
        return state.final()

    def _resolve(self, event: CanonicalEvent) -> _PendingEvent | IngestResult:
        store_id = event.store_id
        if event.test:
            candidate = self._find(store_id, event.identity)
            return IngestResult(
                event_id=None,
                contact_id=candidate.id if candidate else None,
                contact_uuid=candidate.uuid if candidate else None,
                received_at=self.now,
            )
        source = event.profile.source if event.profile and event.profile.source else event.source
        contact = self._find_or_create(store_id, event.identity, event.profile, source)
        pending = _PendingEvent(event=event, event_id=uuid7(), contact=contact)
        self._pending.append(pending)
        return pending

    def _find(self, store_id: int, identity: IdentityHints) -> _ContactState | None:
        """The contact the hints name, first match in priority order (rules 1 and 2)."""
        hints = identity.identifiers
        candidate: _ContactState | None = None
        via: Identifier | None = None
        for ident in hints:
            candidate = self._lookup(store_id, ident)
            if candidate is not None:
                via = ident
                break
        email = identity.first("email")
        if candidate is not None and via is not None and via.kind == "phone" and email:
            email_owner = self._lookup(store_id, Identifier("email", email))
            if email_owner is not None:
                candidate = email_owner
            elif candidate.email and candidate.email != email:
                candidate = None  # a different known person shares this phone
        return candidate

    def _find_or_create(
        self,
        store_id: int,
        identity: IdentityHints,
        profile: ProfilePatch | None,
        source: str | None,
    ) -> _ContactState:
        """Rules 1 to 5: find or create, attach the other identifiers, patch the profile."""
        hints = identity.identifiers
        candidate = self._find(store_id, identity)
        if candidate is None:
            if not identity.create or not any(i.kind in STORED_KINDS for i in hints):
                raise NotFound("No contact matches the given identifiers.")
            known = any(i.kind in IDENTIFYING_KINDS for i in hints)
            candidate = self._new_contact(store_id, source, known)
        for ident in hints:
            if ident.kind in STORED_KINDS:
                self._attach(candidate, store_id, ident)
        for ident in identity.joins:
            self._attach(candidate, store_id, ident)
        candidate = candidate.final()
        if profile is not None and not profile.is_empty():
            self._patch(candidate, profile.fields, profile.custom_fields)
        return candidate

    def _new_contact(self, store_id: int, source: str | None, known: bool) -> _ContactState:
        """A new profile; ``known`` when something names the person (not only an anonymous
        id): an unknown one is not a contact of the store data API until identified."""
        state = _ContactState(
            store_id=store_id,
            uuid=uuid.uuid4(),
            values={column: None for column in _CONTACT_COLUMNS},
            source=source,
            is_new=True,
        )
        state.values["custom_fields"] = {}
        state.values["subscribed"] = False
        state.values["is_contact"] = known
        self._new_contacts.append(state)
        return state

    def _attach(self, contact: _ContactState, store_id: int, ident: Identifier) -> None:
        contact = contact.final()
        key = (store_id, ident.kind, ident.value)
        owner = self._lookup(store_id, ident)
        if owner is contact:
            return
        if owner is None:
            if not ident.claim:
                return
            self._owners[key] = contact
            self._new_identifiers.append((key, contact))
            if ident.kind in ("email", "phone"):
                self._set(contact, ident.kind, ident.value)
            if ident.kind in IDENTIFYING_KINDS:
                self._set(contact, "is_contact", True)  # an anonymous profile identified
            return
        if self.policy is Policy.REFUSE and ident.kind == "email":
            raise Conflict(EMAIL_TAKEN)
        if self.policy is Policy.MERGE and owner.email in (None, contact.email):
            self._merge(owner, contact, f"{ident.kind} {ident.value}")
        else:
            self._conflicts.append((contact, owner, ident.kind, ident.value))

    def _merge(self, source: _ContactState, target: _ContactState, reason: str) -> None:
        for column, value in source.values.items():
            if column == "custom_fields":
                merged = dict(value or {})
                merged.update(target.values.get("custom_fields") or {})
                target.values["custom_fields"] = merged
            elif column == "is_contact":
                target.values[column] = bool(value or target.values.get(column))
            elif target.values.get(column) is None and value is not None:
                target.values[column] = value
        target.dirty = True
        source.merged_into = target
        for key, owner in list(self._owners.items()):
            if owner is source:
                self._owners[key] = target
        if not source.is_new:
            self._merges.append(_Merge(source, target, reason))

    def _patch(
        self, contact: _ContactState, fields: dict[str, Any], custom: dict[str, Any]
    ) -> None:
        for column, value in fields.items():
            if column in PROFILE_FIELDS and value is not None:
                self._set(contact, column, value)
        if custom:
            merged = dict(contact.values.get("custom_fields") or {})
            merged.update(custom)
            if merged != contact.values.get("custom_fields"):
                contact.values["custom_fields"] = merged
                contact.dirty = True

    @staticmethod
    def _set(contact: _ContactState, column: str, value: Any) -> None:
        if contact.values.get(column) != value:
            contact.values[column] = value
            contact.dirty = True

    # -- writing ------------------------------------------------------------------------

    def _flush(self) -> None:
        self._insert_contacts()
        self._apply_merges()
        self._insert_identifiers()
        self._update_contacts()
        self._insert_events()
        self._insert_conflicts()

    def _insert_contacts(self) -> None:
        new = [c for c in self._new_contacts if c.merged_into is None]
        if not new:
            return
        bulk = self._bulk
        now = bulk.datetime(self.now)
        columns = ("store_id", "uuid", "source", "created_at", "updated_at", "tags")
        value_columns = tuple(c for c in _CONTACT_COLUMNS if c != "custom_fields")
        rows = []
        for c in new:
            values = c.values
            rows.append(
                (
                    c.store_id,
                    bulk.uuid(c.uuid),
                    c.source,
                    now,
                    now,
                    "[]",
                    bulk.json(values.get("custom_fields") or {}),
                    *(values.get(column) for column in value_columns),
                )
            )
        bulk.insert(
            "contacts",
            (*columns, "custom_fields", *value_columns),
            rows,
        )
        # One read of the new ids by uuid (RETURNING with ordered rows would make
        # SQLAlchemy fall back to one INSERT per row on SQLite).
        by_uuid = {c.uuid: c for c in new}
        for row in self.conn.execute(
            select(Contact.id, Contact.uuid).where(
                Contact.store_id.in_({c.store_id for c in new}), Contact.uuid.in_(list(by_uuid))
            )
        ):
            state = by_uuid[row.uuid]
            state.id = row.id
            state.dirty = False
        bulk.insert(
            "outbox_messages",
            ("store_id", "topic", "payload", "created_at"),
            # An anonymous profile is no contact yet: nothing to announce (no webhook, no
            # segment to check) until it is identified.
            [
                (c.store_id, CONTACT_CREATED, bulk.json({"contact_id": c.id}), now)
                for c in new
                if c.values.get("is_contact")
            ],
        )

    def _apply_merges(self) -> None:
        messages = []
        for merge in self._merges:
            source, target = merge.source, merge.target.final()
            assert source.id is not None and target.id is not None
            # Everything the source owns follows, in this transaction (merges are rare).
            moved: dict[str, Any] = owned.move(self.conn, source.id, target.id)
            self.conn.execute(
                update(Contact)
                .where(Contact.id == source.id)
                .values(merged_into_id=target.id, updated_at=self.now)
            )
            before = {k: v for k, v in source.values.items() if v not in (None, {}, [])}
            self.conn.execute(
                insert(ContactMerge).values(
                    store_id=source.store_id,
                    source_contact_id=source.id,
                    target_contact_id=target.id,
                    reason=merge.reason,
                    moved={**moved, "source_fields": before},
                    created_at=self.now,
                )
            )
            messages.append(
                (
                    source.store_id,
                    CONTACT_MERGED,
                    {"contact_id": target.id, "merged_contact_id": source.id},
                )
            )
        emit_many(self.conn, messages)

    def _insert_identifiers(self) -> None:
        created = self._bulk.datetime(self.now)
        rows = [
            (store_id, contact.final().id, kind, value, created)
            for (store_id, kind, value), contact in self._new_identifiers
        ]
        self._bulk.insert(
            "contact_identifiers", ("store_id", "contact_id", "kind", "value", "created_at"), rows
        )

    def _update_contacts(self) -> None:
        dirty = [
            c
            for c in self._by_id.values()
            if c.dirty and c.merged_into is None and c.id is not None
        ]
        dirty += [c for c in self._new_contacts if c.dirty and c.merged_into is None]
        if not dirty:
            return
        statement = (
            update(Contact)
            .where(Contact.id == bindparam("_id"))
            .values({column: bindparam(column) for column in (*_CONTACT_COLUMNS, "updated_at")})
        )
        rows = [{"_id": c.id, "updated_at": self.now, **c.values} for c in _unique(dirty)]
        self.conn.execute(statement, rows)
        # Existing contacts whose profile changed: segments reading profiles re-check them
        # (new contacts are announced by contact_created, merges by contact_merged).
        emit_many(
            self.conn,
            [
                (c.store_id, CONTACT_PATCHED, {"contact_id": c.id})
                for c in _unique(dirty)
                if not c.is_new and c.id is not None
            ],
        )

    def _insert_events(self) -> None:
        bulk = self._bulk
        now = bulk.datetime(self.now)
        rows = []
        for pending in self._pending:
            event = pending.event
            rows.append(
                (
                    bulk.uuid(pending.event_id),
                    event.store_id,
                    pending.contact.final().id,
                    event.name,
                    event.category,
                    event.action,
                    bulk.datetime(event.occurred_at) if event.occurred_at else now,
                    now,
                    event.source,
                    bulk.json(event.properties),
                    bulk.json(event.property_types),
                    bulk.json(event.extra),
                    bulk.json(event.entity),
                    event.value,
                    event.currency,
                    event.dedup_key,
                    event.silent,
                    0,
                )
            )
        bulk.insert("events", _EVENT_COLUMNS, rows)
        # Each event is queued for the worker (cartwheel.models.PendingEvent).
        queued = [(row[0], row[1]) for row in rows]
        bulk.insert("pending_events", ("id", "store_id"), queued, types=("uuid", "int4"))

    def _insert_conflicts(self) -> None:
        rows = [
            {
                "store_id": contact.store_id,
                "contact_id": contact.final().id,
                "owner_contact_id": owner.id,
                "kind": kind,
                "value": value,
                "created_at": self.now,
            }
            for contact, owner, kind, value in self._conflicts
        ]
        if rows:
            self.conn.execute(insert(IdentityConflict), rows)

    def _result(
        self, item: IngestResult | AppError | _PendingEvent | tuple[_PendingEvent]
    ) -> IngestResult | AppError:
        duplicate = isinstance(item, tuple)
        if isinstance(item, tuple):
            item = item[0]
        if not isinstance(item, _PendingEvent):
            return item
        contact = item.contact.final()
        return IngestResult(
            event_id=item.event_id,
            contact_id=contact.id,
            contact_uuid=contact.uuid,
            received_at=self.now,
            duplicate=duplicate,
        )


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _unique(states: Iterable[_ContactState]) -> list[_ContactState]:
    seen: set[int] = set()
    out = []
    for state in states:
        if id(state) not in seen:
            seen.add(id(state))
            out.append(state)
    return out
