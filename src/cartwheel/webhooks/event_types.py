"""The event types a webhook subscription can ask for.

The first seven are the store data API document's; the rest are Cartwheel's own. Every one
except ``event_tracked`` is an outbox topic (:mod:`cartwheel.outbox`); ``event_tracked`` is
fanned out from the event log itself."""

from __future__ import annotations

from cartwheel.outbox import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    CONTACT_MERGED,
    CONTACT_UPDATED,
    FLOW_RUN_FINISHED,
    FLOW_RUN_STARTED,
    SEGMENT_ENTERED,
    SEGMENT_EXITED,
)

ORDER_CREATED = "order_created"
ORDER_UPDATED = "order_updated"
PRODUCT_CREATED = "product_created"
PRODUCT_UPDATED = "product_updated"
FORM_SUBMITTED = "form_submitted"
BOOKING_CREATED = "booking_created"
EVENT_TRACKED = "event_tracked"

#: The document's ``WebhookEvent`` enum, in its order.
DOCUMENTED = (
    ORDER_CREATED,
    ORDER_UPDATED,
    PRODUCT_CREATED,
    PRODUCT_UPDATED,
    FORM_SUBMITTED,
    CONTACT_UPDATED,
    BOOKING_CREATED,
)

#: Cartwheel's additions.
OWN = (
    EVENT_TRACKED,
    CONTACT_CREATED,
    CONTACT_MERGED,
    CONTACT_DELETED,
    SEGMENT_ENTERED,
    SEGMENT_EXITED,
    FLOW_RUN_STARTED,
    FLOW_RUN_FINISHED,
)

ALL = DOCUMENTED + OWN

#: Outbox topics that subscriptions can receive.
OUTBOX_TOPICS = frozenset(ALL) - {EVENT_TRACKED}
