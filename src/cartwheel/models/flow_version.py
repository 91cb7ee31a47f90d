from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class FlowVersion(Base):
    """A published definition, never changed afterwards: runs continue on the version
    they started on."""

    __tablename__ = "flow_versions"

    flow_id: Mapped[int] = mapped_column(
        ForeignKey("flows.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
