"""The one list of routers. A new wire format or domain adds one line here."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Route

from cartwheel import health
from cartwheel.admin.pages import ROUTERS as ADMIN_ROUTERS
from cartwheel.bookings import endpoints as bookings
from cartwheel.catalog import endpoints as catalog
from cartwheel.contacts import endpoints as contacts
from cartwheel.events import endpoints as events
from cartwheel.flows import endpoints as flows
from cartwheel.forms import endpoints as forms
from cartwheel.identity import endpoints as identity
from cartwheel.lists import endpoints as lists
from cartwheel.members import endpoints as members
from cartwheel.messages import endpoints as messages
from cartwheel.messages import public as message_links
from cartwheel.orders import endpoints as orders
from cartwheel.segments import endpoints as segments
from cartwheel.webhooks import endpoints as webhooks
from cartwheel.wire.lindris import endpoints as lindris
from cartwheel.wire.native import endpoints as native_events
from cartwheel.wire.omnisend import endpoints as omnisend
from cartwheel.wire.redo import endpoints as redo
from cartwheel.wire.segment import endpoints as tracking
from cartwheel.wire.voucherify import endpoints as voucherify
from cartwheel.worker import endpoints as queues

#: Hot endpoints served ahead of every router, without FastAPI's dependency resolution
#: (cartwheel.kit.fastlane); their FastAPI declarations below document them.
FAST_ROUTES: list[Route] = [*native_events.FAST_ROUTES]

ROUTERS: list[APIRouter] = [
    health.router,
    native_events.router,  # the ingest hot path: matched before every other route
    contacts.router,
    events.router,
    identity.router,
    members.router,
    forms.router,
    bookings.router,
    lists.router,
    catalog.router,
    orders.router,
    redo.router,
    omnisend.router,
    lindris.router,
    segments.router,
    segments.contact_router,
    webhooks.router,
    queues.router,
    voucherify.router,
    tracking.router,
    flows.router,
    flows.runs_router,
    messages.router,
    message_links.router,
    *ADMIN_ROUTERS,  # the back office's pages at /admin (not in the OpenAPI document)
]
