from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class FormSubmission(Base):
    """One submission of a site form: its name/value fields, in the order submitted, and the
    contact it created or updated (by its email field), if it had one."""

    __tablename__ = "form_submissions"
    __table_args__ = (Index("ix_form_submissions_store_received", "store_id", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    form_name: Mapped[str] = mapped_column(String(200))
    # [{"name": ..., "value": ...}, ...]
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    origin: Mapped[str | None] = mapped_column(String(500), default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
