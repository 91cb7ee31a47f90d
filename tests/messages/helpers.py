"""Making a store's template and contact directly (the API tests make them by API)."""

from __future__ import annotations

import uuid
from typing import Any

from cartwheel.db import Database
from cartwheel.models import Contact, MessageTemplate


def make_template(db: Database, store_id: int, **values: Any) -> int:
    fields: dict[str, Any] = {
        "name": "Welcome",
        "channel": "email",
        "topic": "marketing",
        "subject": "Hello {{ contact.firstName }}",
        "body": "<style>p{color:#123456}</style><p>Hi {{ contact.firstName }}</p>"
        '<p><a href="https://shop.example.com/sale?a=1&amp;b=2">Sale</a></p>',
        **values,
    }
    with db.transaction() as session:
        template = MessageTemplate(store_id=store_id, **fields)
        session.add(template)
        session.flush()
        return template.id


def make_contact(db: Database, store_id: int, **values: Any) -> int:
    fields: dict[str, Any] = {
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "first_name": "Ann",
        "subscribed": True,
        **values,
    }
    with db.transaction() as session:
        contact = Contact(store_id=store_id, uuid=uuid.uuid4(), **fields)
        session.add(contact)
        session.flush()
        return contact.id
