"""Everything a contact owns, declared once. This registry drives contact delete, merge and
undo: a table that points at a contact is one line in :data:`OWNED`, and all three follow.

Statements run on a Core ``Connection`` so the ingest resolver and the ORM paths (through
``session.connection()``) share them, in the caller's transaction."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, delete, exists, false, or_, select, update

from cartwheel.models import (
    Booking,
    Cart,
    ContactConsent,
    ContactIdentifier,
    CustomerSubscription,
    Event,
    FlowRun,
    FormSubmission,
    Member,
    Message,
    Order,
    SegmentMembership,
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
    #: The columns naming one of a contact's rows (the recorded value: one column's value,
    #: or a list of values for several).
    key: tuple[str, ...] = ("id",)
    contact_column: str = "contact_id"
    #: A contact holds at most one row per these columns (``()``: at most one row at all).
    #: A source row that would collide with a target row stays on the source in a merge.
    unique_with: tuple[str, ...] | None = None
    #: When the row was made: an undo moves back only rows made before the merge, so a row
    #: id SQLite reused after a delete (tables without AUTOINCREMENT) is never taken.
    created_column: str = "created_at"

    @property
    def table(self) -> Table:
        table: Table = self.model.__table__  # type: ignore[assignment]
        return table


OWNED: tuple[Owned, ...] = (
    # By value, not row id: an identifier deleted and made again is another row.
    Owned("identifiers", ContactIdentifier, OnDelete.DELETE, ("kind", "value")),
    Owned("event_ids", Event, OnDelete.KEEP, created_column="received_at"),
    Owned("order_ids", Order, OnDelete.KEEP),
    Owned("cart_ids", Cart, OnDelete.KEEP),
    Owned("subscription_ids", CustomerSubscription, OnDelete.KEEP),
    Owned(
        "list_ids", SubscriberListContact, OnDelete.DELETE, ("list_id",), unique_with=("list_id",)
    ),
    Owned("member_ids", Member, OnDelete.UNLINK, unique_with=()),
    Owned("booking_ids", Booking, OnDelete.UNLINK),
    Owned("form_submission_ids", FormSubmission, OnDelete.UNLINK, created_column="received_at"),
    # Kept on delete: the worker's re-check of the deleted contact removes it with a
    # segment_exited message (cartwheel/segments/tasks.py).
    Owned(
        "segment_ids",
        SegmentMembership,
        OnDelete.KEEP,
        ("segment_id",),
        unique_with=("segment_id",),
        created_column="entered_at",
    ),
    # A merge moves the runs (their history and the active ones); an active run for a key
    # the survivor already runs stays behind and ends on its next step (contact merged).
    Owned(
        "flow_run_ids",
        FlowRun,
        OnDelete.KEEP,
        unique_with=("flow_id", "slot"),
        created_column="started_at",
    ),
    # The message log is history, like the event log; consent is the person's and goes.
    Owned("message_ids", Message, OnDelete.KEEP),
    Owned(
        "consents",
        ContactConsent,
        OnDelete.DELETE,
        ("channel", "topic"),
        unique_with=("channel", "topic"),
    ),
)

#: What a merge moved, per registry name: JSON-ready keys (uuids as strings).
Moved = dict[str, list[Any]]


def move(
    conn: Connection,
    source_id: int,
    target_id: int,
    only: Mapping[str, Iterable[Any]] | None = None,
    made_before: datetime | None = None,
) -> Moved:
    """Give every registered row of ``source_id`` to ``target_id`` (or, with ``only``, just
    the recorded keys per registry name, made no later than ``made_before``: an undo). A row
    that would collide with one the target already holds stays where it is. One
    UPDATE … RETURNING per registry row."""
    moved: Moved = {}
    for owned in OWNED:
        table = owned.table
        contact = table.c[owned.contact_column]
        keys = [table.c[column] for column in owned.key]
        statement = update(table).where(contact == source_id)
        if only is not None:
            recorded = list(only.get(owned.name, ()))
            if not recorded:
                moved[owned.name] = []
                continue
            statement = statement.where(_recorded(keys, recorded))
            if made_before is not None:
                statement = statement.where(table.c[owned.created_column] <= made_before)
        if owned.unique_with is not None:
            held = table.alias("held")
            same = [held.c[column] == table.c[column] for column in owned.unique_with]
            statement = statement.where(
                ~exists(select(1).where(and_(held.c[owned.contact_column] == target_id, *same)))
            )
        rows = conn.execute(statement.values({contact: target_id}).returning(*keys)).all()
        moved[owned.name] = [_recordable(row) for row in rows]
    return moved


def _recorded(keys: list[Column[Any]], recorded: list[Any]) -> Any:
    if len(keys) == 1:
        return keys[0].in_([_bind(keys[0], value) for value in recorded])
    matches = [
        and_(*(key == _bind(key, part) for key, part in zip(keys, value, strict=True)))
        for value in recorded
        if isinstance(value, list | tuple) and len(value) == len(keys)
    ]
    return or_(*matches) if matches else false()


def _recordable(row: Any) -> Any:
    values = [str(v) if isinstance(v, uuid.UUID) else v for v in row]
    return values[0] if len(values) == 1 else values


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
