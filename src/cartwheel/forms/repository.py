"""Form submission queries, always scoped by store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from cartwheel.models import FormSubmission


def store_submissions(store_id: int) -> Select[Any]:
    return select(FormSubmission).where(FormSubmission.store_id == store_id)
