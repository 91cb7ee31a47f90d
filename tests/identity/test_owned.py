"""The registry of what a contact owns drives merge, undo and delete: every row of it is
tested here, parametrized over the registry itself, so a new line there is covered at once.

Rows are built from the table's own columns (required columns get made-up values, foreign
keys get a referenced row built the same way), so no test code is needed per table."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Integer, Table, TypeDecorator, insert, select

from cartwheel.contacts import service as contacts
from cartwheel.db import Database
from cartwheel.identity import service as identity
from cartwheel.identity.owned import OWNED, OnDelete, Owned
from cartwheel.models import Contact, ContactMerge
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture
from tests.ingest.test_identity import event, ingest_one

_serial = itertools.count(1)


def _made_up(table: Table, name: str, python_type: type) -> Any:
    n = next(_serial)
    if python_type is str:
        length = getattr(table.c[name].type, "length", None) or 40
        return f"{name[:10]}-{uuid.uuid4().hex[:12]}-{n}"[:length]
    if python_type is uuid.UUID:
        return uuid.uuid4()
    if python_type is datetime:
        return datetime.now(UTC)
    if python_type is bool:
        return False
    if python_type in (int, float):
        return python_type(n)
    if python_type in (dict, list):
        return python_type()
    raise AssertionError(f"no made-up value for {table.name}.{name} ({python_type})")


def build_row(
    conn: Connection, table: Table, store_id: int, contact: tuple[str, int] | None = None
) -> Any:
    """Insert one row of ``table`` for the store (owned by ``contact``: (column, id)); returns
    the inserted primary key row."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if contact is not None and column.name == contact[0]:
            values[column.name] = contact[1]
        elif column.name == "store_id":
            values[column.name] = store_id
        elif column.foreign_keys and (column.primary_key or not column.nullable):
            (fk,) = column.foreign_keys
            referenced = fk.column.table
            parent = build_row(conn, referenced, store_id)
            values[column.name] = parent._mapping[fk.column.name]
        elif column.primary_key and isinstance(column.type, Integer):
            continue  # autoincrement
        elif column.nullable or column.default is not None or column.server_default is not None:
            continue
        else:
            kind = column.type
            kind = kind.impl if isinstance(kind, TypeDecorator) else kind  # type: ignore[assignment]
            values[column.name] = _made_up(table, column.name, kind.python_type)
    return conn.execute(insert(table).values(values).returning(*table.primary_key)).one()


def own_row(db: Database, owned: Owned, store_id: int, contact_id: int) -> Any:
    """A row of ``owned`` belonging to ``contact_id``; returns its registry key."""
    with db.transaction() as session:
        conn = session.connection()
        row = build_row(conn, owned.table, store_id, (owned.contact_column, contact_id))
        table = owned.table
        pk = dict(row._mapping)
        key = conn.execute(
            select(*(table.c[k] for k in owned.key)).where(
                *(table.c[k] == v for k, v in pk.items())
            )
        ).one()
        return key[0] if len(owned.key) == 1 else tuple(key)


def is_key(owned: Owned, key: Any) -> list[Any]:
    """The WHERE clauses naming the rows with this registry key."""
    parts = (key,) if len(owned.key) == 1 else key
    return [owned.table.c[k] == v for k, v in zip(owned.key, parts, strict=True)]


def owners(db: Database, owned: Owned, key: Any) -> set[int | None]:
    """Who holds the rows with this registry key (list memberships share a list id)."""
    table = owned.table
    with db.read() as session:
        query = select(table.c[owned.contact_column]).where(*is_key(owned, key))
        return set(session.execute(query).scalars())


def merge_source_into_target(runtime: Runtime, store: StoreFixture, tag: str) -> tuple[int, int]:
    """A phone-only contact, then an email contact, then an event with both: a merge."""
    phone = f"+1555013{next(_serial) % 10000:04d}"
    email = f"{tag}-{uuid.uuid4().hex[:8]}@example.com"
    source = ingest_one(runtime, event(store.store_id, "viewed", phone=phone)).contact_id
    target = ingest_one(runtime, event(store.store_id, "signed_up", email=email)).contact_id
    assert source is not None and target is not None and source != target
    return source, target


def merge(runtime: Runtime, store: StoreFixture, source: int, target: int) -> int:
    """Ingest the event that proves ``source`` and ``target`` are one person; the merge id."""
    with runtime.db.read() as session:
        s, t = session.get(Contact, source), session.get(Contact, target)
        assert s is not None and t is not None
        phone, email = s.phone, t.email
    assert phone is not None and email is not None
    both = ingest_one(runtime, event(store.store_id, "ordered", email=email, phone=phone))
    assert both.contact_id == target
    with runtime.db.read() as session:
        merge_id: int = session.execute(
            select(ContactMerge.id).where(ContactMerge.source_contact_id == source)
        ).scalar_one()
    return merge_id


@pytest.mark.parametrize("owned", OWNED, ids=lambda owned: owned.name)
def test_merge_moves_and_undo_returns_every_owned_row(
    runtime: Runtime, db: Database, store: StoreFixture, owned: Owned
) -> None:
    source, target = merge_source_into_target(runtime, store, owned.name)
    key = own_row(db, owned, store.store_id, source)

    merge_id = merge(runtime, store, source, target)
    assert owners(db, owned, key) == {target}

    with db.transaction() as session:
        identity.undo_merge(session, store.store_id, merge_id)
    assert owners(db, owned, key) == {source}


@pytest.mark.parametrize(
    "owned", [o for o in OWNED if o.unique_with is not None], ids=lambda owned: owned.name
)
def test_a_row_that_would_collide_stays_on_the_source(
    runtime: Runtime, db: Database, store: StoreFixture, owned: Owned
) -> None:
    source, target = merge_source_into_target(runtime, store, owned.name)
    mine = own_row(db, owned, store.store_id, source)
    table = owned.table
    with db.transaction() as session:
        conn = session.connection()
        # The target holds a row equal to the source's in the unique columns (NULLs never
        # collide in a unique index, so a NULL one is given a value first).
        blank = {
            c: _made_up(table, c, table.c[c].type.python_type)
            for c in owned.unique_with or ()
            if conn.execute(select(table.c[c]).where(*is_key(owned, mine))).scalar() is None
        }
        if blank:
            conn.execute(table.update().where(*is_key(owned, mine)).values(blank))
        same = conn.execute(select(table).where(*is_key(owned, mine))).mappings().one()
        row = build_row(conn, table, store.store_id, (owned.contact_column, target))
        if owned.unique_with:
            conn.execute(
                table.update()
                .where(*(table.c[k] == v for k, v in row._mapping.items()))
                .values({c: same[c] for c in owned.unique_with})
            )

    merge(runtime, store, source, target)
    assert source in owners(db, owned, mine)  # nothing is lost: it just did not move


@pytest.mark.parametrize("owned", OWNED, ids=lambda owned: owned.name)
def test_delete_keeps_unlinks_or_deletes_as_registered(
    db: Database, store: StoreFixture, owned: Owned
) -> None:
    with db.transaction() as session:
        contact, _ = contacts.upsert_person(
            session, store.store_id, f"del-{uuid.uuid4().hex[:8]}@example.com", {}, source="api"
        )
        contact_id = contact.id
    key = own_row(db, owned, store.store_id, contact_id)

    with db.transaction() as session:
        contacts.delete_contact(session, store.store_id, contact_id)

    table = owned.table
    with db.read() as session:
        left = session.execute(
            select(table.c[owned.contact_column]).where(*is_key(owned, key))
        ).all()
    expected = {
        OnDelete.KEEP: [(contact_id,)],
        OnDelete.UNLINK: [(None,)],
        OnDelete.DELETE: [],
    }[owned.on_delete]
    assert [tuple(r) for r in left] == expected


def test_every_table_pointing_at_contacts_is_registered_or_identity_bookkeeping() -> None:
    """A new table with a foreign key to contacts must get its line in the registry."""
    bookkeeping = {
        ("contacts", "merged_into_id"),
        ("contact_merges", "source_contact_id"),
        ("contact_merges", "target_contact_id"),
        ("identity_conflicts", "contact_id"),
        ("identity_conflicts", "owner_contact_id"),
    }
    #: Contact columns without a foreign key (their models say why).
    unkeyed = {("flow_runs", "contact_id")}
    registered = {(o.table.name, o.contact_column) for o in OWNED}
    pointing = {
        (table.name, column.name)
        for table in Contact.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "contacts" for fk in column.foreign_keys)
    }
    assert not pointing & unkeyed
    assert (pointing | unkeyed) - bookkeeping == registered
