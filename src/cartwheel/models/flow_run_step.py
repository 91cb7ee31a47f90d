from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class FlowRunStep(Base):
    """One visit of a run to a step: when it was reached, how it ended (``done``,
    ``skipped``, ``exited``, ``failed``), why, and what it did (the message or delivery it
    queued, the branch taken). Written once, when the visit ends: the visit a run is
    waiting in has no row yet, the run's columns hold it (``engine.waiting_visit``)."""

    __tablename__ = "flow_run_steps"
    # A flow's visits by step, status and reason (its stats) counted from the index alone.
    __table_args__ = (Index("ix_flow_run_steps_flow_step", "flow_id", "step", "status", "reason"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("flow_runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The run's flow, for the stats' index; no foreign key (the run's cascades; 0024).
    flow_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
