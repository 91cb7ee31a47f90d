"""Lifecycle processors: where an order, product, cart or subscription event becomes (or
changes) the store's record. They read only the canonical event (category, action, entity
in the shapes of :mod:`cartwheel.ingest.entities`, contact, value, time, silent), never a
vendor's field, and they are idempotent: replaying the same events leaves the same records."""
