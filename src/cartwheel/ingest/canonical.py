"""The canonical event: what every wire adapter maps its request to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

IdentifierKind = Literal["contact_id", "contact_uuid", "external", "email", "phone", "anonymous"]

#: Kinds stored in ``contact_identifiers`` (the others name a contact row directly).
STORED_KINDS: tuple[str, ...] = ("external", "email", "phone", "anonymous")

#: Kinds that name a known person. A profile holding none of them (only an ``anonymous``
#: id: a visitor not identified yet) is not a contact of the store data API.
IDENTIFYING_KINDS: tuple[str, ...] = ("external", "email", "phone")


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: IdentifierKind
    value: str
    #: A join (:attr:`IdentityHints.joins`) nobody holds yet is given to the resolved
    #: contact; with ``claim`` false it only merges a profile that holds it.
    claim: bool = True


@dataclass(slots=True)
class IdentityHints:
    """Who the event is about, in the adapter's documented priority order (first wins).

    Values are already normalized (see :mod:`cartwheel.identity.addresses`)."""

    identifiers: list[Identifier] = field(default_factory=list)
    #: Create a contact when nothing matches (every documented format does).
    create: bool = True
    #: Identifiers of earlier profiles of the same person (an anonymous visitor's id, an
    #: alias's previous id). They never choose the contact; once it is chosen, each is
    #: attached to it, so a profile holding one is merged in (recorded, undoable).
    joins: list[Identifier] = field(default_factory=list)

    def add(self, kind: IdentifierKind, value: str | None) -> None:
        if value:
            self.identifiers.append(Identifier(kind, value))

    def join(self, kind: IdentifierKind, value: str | None, *, claim: bool = True) -> None:
        if value:
            self.joins.append(Identifier(kind, value, claim))

    def first(self, kind: IdentifierKind) -> str | None:
        return next((i.value for i in self.identifiers if i.kind == kind), None)


#: Contact columns a profile patch may set. ``custom_fields`` is merged key by key.
PROFILE_FIELDS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "company_name",
    "address1",
    "address2",
    "city",
    "state",
    "state_code",
    "zip",
    "country",
    "country_code",
    "timezone",
    "latitude",
    "longitude",
    "subscribed",
)


@dataclass(slots=True)
class ProfilePatch:
    """Profile fields to set on the resolved contact: only keys present are written."""

    fields: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    #: Where the contact came from; set only when the contact is created.
    source: str | None = None

    def is_empty(self) -> bool:
        return not self.fields and not self.custom_fields


@dataclass(slots=True)
class CanonicalEvent:
    store_id: int
    name: str
    identity: IdentityHints
    category: str | None = None
    action: str | None = None
    occurred_at: datetime | None = None
    source: str | None = None
    profile: ProfilePatch | None = None
    #: Segmentable properties: top-level scalars (typed, ISO-8601 strings as dates).
    properties: dict[str, Any] = field(default_factory=dict)
    property_types: dict[str, str] = field(default_factory=dict)
    #: Everything else: nested objects, arrays, ``$extra``. Stored whole, not segmentable.
    extra: dict[str, Any] = field(default_factory=dict)
    #: The record a lifecycle event describes (order, product…), in the canonical shape of
    #: :mod:`cartwheel.ingest.entities`; None for plain custom events.
    entity: dict[str, Any] | None = None
    value: float | None = None
    currency: str | None = None
    dedup_key: str | None = None
    silent: bool = False
    test: bool = False
    #: The wire format it arrived in (the adapter's name), for the per-minute counts.
    wire: str = "native"


@dataclass(frozen=True, slots=True)
class IngestResult:
    event_id: uuid.UUID | None
    contact_id: int | None
    contact_uuid: uuid.UUID | None
    received_at: datetime
    #: True when the dedup key was seen before: nothing new was stored.
    duplicate: bool = False
