from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base


class EventMinute(Base):
    """Events stored per store, wire format and minute (when they were received): the
    back office's ingest chart, without counting the event log. The ingest writer adds to it
    in the transaction that stores the events; ``shard`` is the writing process's own random
    number, so writers of several processes never wait on one another's row."""

    __tablename__ = "event_minutes"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    #: Minutes since the Unix epoch (UTC): a number, so a chart's buckets are summed in SQL.
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wire: Mapped[str] = mapped_column(String(32), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
