from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cartwheel.models import ContactMerge, IdentityConflict


class MovedIdentifier(BaseModel):
    kind: str = Field(description="`email`, `phone` or `external`.")
    value: str = Field(description="The identifier value.")


class MergeView(BaseModel):
    id: int = Field(description="Merge id.")
    sourceContactId: int = Field(description="The contact that was merged away.")
    targetContactId: int = Field(description="The contact that survived.")
    reason: str = Field(description="The identifier that proved both were one person.")
    movedIdentifiers: list[MovedIdentifier] = Field(
        description="Identifiers that changed owner (merges recorded before identifiers were "
        "recorded by value list none)."
    )
    movedEventCount: int = Field(description="Events that moved to the survivor.")
    sourceFields: dict[str, Any] = Field(description="The merged contact's fields before.")
    createdOn: datetime = Field(description="When the merge happened.")
    undoneOn: datetime | None = Field(description="When the merge was undone, if it was.")


class ConflictView(BaseModel):
    id: int = Field(description="Conflict id.")
    contactId: int = Field(description="The contact the request resolved to.")
    ownerContactId: int = Field(description="The contact that keeps the identifier.")
    kind: str = Field(description="`email`, `phone` or `external`.")
    value: str = Field(description="The identifier value.")
    createdOn: datetime = Field(description="When it was seen.")


def merge_view(merge: ContactMerge) -> MergeView:
    moved = merge.moved or {}
    return MergeView(
        id=merge.id,
        sourceContactId=merge.source_contact_id,
        targetContactId=merge.target_contact_id,
        reason=merge.reason,
        movedIdentifiers=[
            MovedIdentifier(kind=kind, value=value) for kind, value in moved.get("identifiers", [])
        ],
        movedEventCount=len(moved.get("event_ids", [])),
        sourceFields=dict(moved.get("source_fields", {})),
        createdOn=merge.created_at,
        undoneOn=merge.undone_at,
    )


def conflict_view(conflict: IdentityConflict) -> ConflictView:
    return ConflictView(
        id=conflict.id,
        contactId=conflict.contact_id,
        ownerContactId=conflict.owner_contact_id,
        kind=conflict.kind,
        value=conflict.value,
        createdOn=conflict.created_at,
    )
