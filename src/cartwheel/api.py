"""The one list of routers. A new wire format or domain adds one line here."""

from __future__ import annotations

from fastapi import APIRouter

from cartwheel import health
from cartwheel.contacts import endpoints as contacts
from cartwheel.identity import endpoints as identity

ROUTERS: list[APIRouter] = [
    health.router,
    contacts.router,
    identity.router,
]
