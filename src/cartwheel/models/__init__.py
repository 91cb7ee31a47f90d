"""Every ORM table, imported here so the metadata (and Alembic) sees them all."""

from cartwheel.models.api_key import ApiKey
from cartwheel.models.base import Base
from cartwheel.models.client_credential import ClientCredential
from cartwheel.models.contact import Contact
from cartwheel.models.contact_identifier import ContactIdentifier
from cartwheel.models.contact_merge import ContactMerge
from cartwheel.models.event import Event
from cartwheel.models.identity_conflict import IdentityConflict
from cartwheel.models.outbox_message import OutboxMessage
from cartwheel.models.store import Store
from cartwheel.models.webhook_attempt import WebhookAttempt
from cartwheel.models.webhook_delivery import WebhookDelivery
from cartwheel.models.webhook_subscription import WebhookSubscription

__all__ = [
    "ApiKey",
    "Base",
    "ClientCredential",
    "Contact",
    "ContactIdentifier",
    "ContactMerge",
    "Event",
    "IdentityConflict",
    "OutboxMessage",
    "Store",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
