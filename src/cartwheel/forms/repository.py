"""Form submission queries, always scoped by store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from cartwheel.models import FormSubmission


def store_submissions(store_id: int) -> Select[Any]:
    return select(FormSubmission).where(FormSubmission.store_id == store_id)


def move_contact(session: Session, source_id: int, target_id: int) -> None:
    session.execute(
        update(FormSubmission)
        .where(FormSubmission.contact_id == source_id)
        .values(contact_id=target_id)
    )


def unlink_contact(session: Session, contact_id: int) -> None:
    session.execute(
        update(FormSubmission)
        .where(FormSubmission.contact_id == contact_id)
        .values(contact_id=None)
    )
