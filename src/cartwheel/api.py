"""The one list of routers. A new wire format or domain adds one line here."""

from __future__ import annotations

from fastapi import APIRouter

from cartwheel import health
from cartwheel.contacts import endpoints as contacts
from cartwheel.identity import endpoints as identity
from cartwheel.webhooks import endpoints as webhooks
from cartwheel.wire.lindris import endpoints as lindris

ROUTERS: list[APIRouter] = [
    health.router,
    contacts.router,
    identity.router,
    lindris.router,
    webhooks.router,
]
