"""The back office's pages, one module per area; :data:`ROUTERS` in the order they match."""

from fastapi import APIRouter

from cartwheel.admin.pages import (
    audit,
    auth,
    contacts,
    flows,
    messages,
    overview,
    segments,
    settings,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    overview.router,
    contacts.router,
    segments.router,
    webhooks.router,
    settings.router,
    audit.router,
    flows.router,
    messages.router,
]
