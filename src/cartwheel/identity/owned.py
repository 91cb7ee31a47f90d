"""Everything a contact owns, declared once. This registry drives contact delete, merge and
undo: a table that points at a contact is one line in :data:`OWNED`, and all three follow.

Statements run on a Core ``Connection`` so the ingest resolver and the ORM paths (through
``session.connection()``) share them, in the caller's transaction."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, delete, exists, select, update

from cartwheel.models import (
    Booking,
    Cart,
    ContactIdentifier,
    CustomerSubscription,
    Event,
    FormSubmission,
    Member,
    Order,
    SubscriberListContact,
)
from cartwheel.models.base import Base


class OnDelete(enum.Enum):
    """What happens to a row when its contact is (soft-)deleted."""

    KEEP = "keep"  # history: stays with the deleted contact
    UNLINK = "unlink"  # the row lives on without a contact (contact column set to NULL)
    DELETE = "delete"  # the row is the contact's and goes with it


@dataclass(frozen=True)
class Owned:
    """One kind of row a contact owns."""

    #: The key under which a merge records the moved rows in ``ContactMerge.moved``.
    name: str
    model: type[Base]
    on_delete: OnDelete
    #: The column naming one of a contact's rows (the recorded value).
    key: str = "id"
    contact_column: str = "contact_id"
    #: A contact holds at most one row per these columns (``()``: at most one row at all).
    #: A source row that would collide with a target row stays on the source in a merge.
    unique_with: tuple[str, ...] | None = None

    @property
    def table(self) -> Table:
        table: Table = self.model.__table__  # type: ignore[assignment]
        return table


OWNED: tuple[Owned, ...] = (
    Owned("identifier_ids", ContactIdentifier, OnDelete.DELETE),
    Owned("event_ids", Event, OnDelete.KEEP),
    Owned("order_ids", Order, OnDelete.KEEP),
    Owned("cart_ids", Cart, OnDelete.KEEP),
    Owned("subscription_ids", CustomerSubscription, OnDelete.KEEP),
    Owned("list_ids", SubscriberListContact, OnDelete.DELETE, "list_id", unique_with=("list_id",)),
    Owned("member_ids", Member, OnDelete.UNLINK, unique_with=()),
    Owned("booking_ids", Booking, OnDelete.UNLINK),
    Owned("form_submission_ids", FormSubmission, OnDelete.UNLINK),
)

#: What a merge moved, per registry name: JSON-ready keys (uuids as strings).
Moved = dict[str, list[Any]]


def move(
    conn: Connection,
    source_id: int,
    target_id: int,
    only: Mapping[str, Iterable[Any]] | None = None,
) -> Moved:
    """Give every registered row of ``source_id`` to ``target_id`` (or, with ``only``, just
    the recorded keys per registry name: an undo). A row that would collide with one the
    target already holds stays where it is. One UPDATE … RETURNING per registry row."""
    moved: Moved = {}
    for owned in OWNED:
        table = owned.table
        contact, key = table.c[owned.contact_column], table.c[owned.key]
        statement = update(table).where(contact == source_id)
        if only is not None:
            keys = [_bind(key, value) for value in only.get(owned.name, ())]
            if not keys:
                moved[owned.name] = []
                continue
            statement = statement.where(key.in_(keys))
        if owned.unique_with is not None:
            held = table.alias("held")
            same = [held.c[column] == table.c[column] for column in owned.unique_with]
            statement = statement.where(
                ~exists(select(1).where(and_(held.c[owned.contact_column] == target_id, *same)))
            )
        rows = conn.execute(statement.values({contact: target_id}).returning(key)).scalars()
        moved[owned.name] = [str(v) if isinstance(v, uuid.UUID) else v for v in rows]
    return moved


def release(conn: Connection, contact_id: int) -> None:
    """What a deleted contact's rows become: kept, unlinked or deleted, per registry row."""
    for owned in OWNED:
        table = owned.table
        contact = table.c[owned.contact_column]
        if owned.on_delete is OnDelete.DELETE:
            conn.execute(delete(table).where(contact == contact_id))
        elif owned.on_delete is OnDelete.UNLINK:
            conn.execute(update(table).where(contact == contact_id).values({contact: None}))


def _bind(column: Column[Any], value: Any) -> Any:
    if column.type.python_type is uuid.UUID and not isinstance(value, uuid.UUID):
        return uuid.UUID(str(value))
    return value
